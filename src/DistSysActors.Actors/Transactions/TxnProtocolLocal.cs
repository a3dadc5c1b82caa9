using System.Collections.Immutable;
using DistSysActors.Core.Transactions;

namespace DistSysActors.Actors.Transactions;

/// <summary>Local requests and answers of the transaction actors (they never leave the node).</summary>
public static class TxnLocal
{
    /// <summary>
    /// Runs a transaction coordinated by this node; answered <see cref="Txn.TxnAnswer"/> with the outcome, or Unknown
    /// once <paramref name="TimeoutMs"/> pass without one (the transaction goes on), or <see cref="Refused"/>.
    /// </summary>
    public sealed record Submit(TxnProtocol Protocol, ImmutableArray<TxnOp> Ops, string? IdempotencyKey, string? Fingerprint, long TimeoutMs);

    /// <summary>Nothing was started: bad input (400), a reused Idempotency-Key (422), or too many requests waiting (503).</summary>
    public sealed record Refused(string Reason, int StatusCode);

    /// <summary>Asks the coordinator what it knows of a transaction; answered <see cref="View"/>.</summary>
    public sealed record GetView(TxnId Id);

    public sealed record View(Txn.TxnView? Txn);

    /// <summary>Asks the participant for a key's committed value; answered <see cref="KeyValue"/>.</summary>
    public sealed record ReadKey(string Key);

    public sealed record KeyValue(string Key, string? Value);

    /// <summary>Asks a role for its status; answered <see cref="RoleStatus"/>.</summary>
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>A participant's in-doubt transactions (with their age and locks) and locks held; a coordinator's running transactions.</summary>
    public sealed record RoleStatus(ImmutableArray<Txn.InDoubt> InDoubt, int LocksHeld, int Running);
}

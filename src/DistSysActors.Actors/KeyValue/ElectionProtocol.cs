using DistSysActors.Core.KeyValue;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Actors.KeyValue;

/// <summary>
/// Lease-based election and fenced registers on the replicated key-value store (<see cref="KvService"/>), as etcd's
/// election API and Kubernetes' Lease offer them. Writes are answered like any key-value write, with
/// <see cref="WriteResult"/> (Status Ok, LeaseRefused or Fenced; Current the <see cref="LeaseAnswer"/> or the highest
/// token) or <see cref="Unavailable"/> / <see cref="Rejected"/>.
/// </summary>
public static class ElectionProtocol
{
    /// <summary>A lease or fenced-register write; Key is the election's name or the register's key.</summary>
    public abstract record ElectionWrite(string Key) : KvWrite(Key);

    /// <summary>Campaigns for the lease <paramref name="Name"/> with a TTL judged by the replicated leader clock.</summary>
    public sealed record Campaign(string Name, string Candidate, long TtlMs) : ElectionWrite(Name);

    public sealed record Renew(string Name, string Candidate, long Token) : ElectionWrite(Name);

    public sealed record Resign(string Name, string Candidate, long Token) : ElectionWrite(Name);

    /// <summary>Writes the fenced register <paramref name="Key"/> when <paramref name="Token"/> is at least the highest it has seen.</summary>
    public sealed record FencedPut(string Key, long Token, string Value) : ElectionWrite(Key);

    /// <summary>Linearizable reads (confirmed with the leader like a key-value read).</summary>
    public abstract record ElectionRead(string Key) : KvRequest(Key);

    /// <summary>The election's live lease; answered with <see cref="LeaseState"/>.</summary>
    public sealed record GetLease(string Name) : ElectionRead(Name);

    /// <summary>A fenced register; answered with <see cref="FencedState"/>.</summary>
    public sealed record GetFenced(string Key) : ElectionRead(Key);

    /// <summary>The live lease (null when none) as this replica has applied it, the TTL left by its replicated leader clock.</summary>
    public sealed record LeaseState(LeaseAnswer? Lease, long AppliedIndex);

    /// <summary>The register's value and highest token (both null when it was never written).</summary>
    public sealed record FencedState(string? Value, long? HighestToken, long AppliedIndex);

    /// <summary>Every live lease as this replica has applied it (no confirmation with the leader: for /status).</summary>
    public sealed record GetLeases
    {
        public static readonly GetLeases Instance = new();
    }

    public sealed record Leases(IReadOnlyList<(string Name, LeaseAnswer Lease)> Held, long LeaderTimeMs);
}

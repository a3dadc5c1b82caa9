using System.Collections.Immutable;
using DistSysActors.Core.Raft;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions.Replicated;

/// <summary>
/// The wire messages of replicated mode between physical nodes: a Raft message of one group, a transaction message for
/// the role a group runs (delivered to that group's leader), and a client's request handed to the coordinating group's
/// leader with its answer back. Inside them, transaction messages are addressed to groups (<see cref="TxnGroups"/>).
/// </summary>
public static class ReplTxn
{
    public const string Service = "txn-repl";

    public abstract record ReplTxnMessage(NodeId From) : IWireSerialized;

    /// <summary>A Raft message of group <paramref name="Group"/> between two of its replicas.</summary>
    public sealed record RaftEnvelope(NodeId From, NodeId Group, RaftMessage Message) : ReplTxnMessage(From);

    /// <summary>A transaction message for the role group <paramref name="ToGroup"/> runs; forwarded at most once (<paramref name="Hops"/>) to the group's leader.</summary>
    public sealed record TxnEnvelope(NodeId From, NodeId ToGroup, TxnMessage Message, int Hops) : ReplTxnMessage(From);

    /// <summary>A client's transaction, handed by the node that received it to the coordinating group's leader.</summary>
    public sealed record ClientBegin(NodeId From, long RequestId, TxnProtocol Protocol, ImmutableArray<TxnOp> Ops, string? IdempotencyKey, string? Fingerprint, int Hops)
        : ReplTxnMessage(From);

    /// <summary>The leader's word to the node that received the client's request (<see cref="ClientBegin.RequestId"/>).</summary>
    public sealed record ClientReply(NodeId From, ReplAnswer Answer) : ReplTxnMessage(From);

    // ---- answers to the host (never alone on the wire: inside a ClientReply) ----

    public abstract record ReplAnswer(long RequestId);

    /// <summary>The transaction's BEGIN is committed in the coordinating group's log under <paramref name="Id"/>.</summary>
    public sealed record BeginDurable(long RequestId, TxnId Id) : ReplAnswer(RequestId);

    /// <summary>The outcome (committed or aborted) as the coordinating group's leader decided it.</summary>
    public sealed record Outcome(long RequestId, TxnAnswer Answer) : ReplAnswer(RequestId);

    /// <summary>Nothing started: the Idempotency-Key was used for another request, or no leader could take it (<paramref name="Unavailable"/>).</summary>
    public sealed record Refused(long RequestId, string Reason, bool Unavailable) : ReplAnswer(RequestId);

    /// <summary>
    /// A key read (<see cref="ReplicatedTxnNode.ReadKey"/>): <paramref name="Value"/> when <paramref name="Served"/> (this
    /// node acts for the shard and confirmed it still leads); otherwise the shard's leader as this node knows it.
    /// </summary>
    public sealed record KeyRead(long RequestId, string Key, string? Value, bool Served, NodeId? Leader) : ReplAnswer(RequestId);

    /// <summary>A transaction's view (<see cref="ReplicatedTxnNode.ReadView"/>), served or not as <see cref="KeyRead"/>.</summary>
    public sealed record ViewRead(long RequestId, TxnId Id, TxnView? View, bool Served, NodeId? Leader) : ReplAnswer(RequestId);

    /// <summary>A durable write of one group's Raft replica on this node (the node's journal holds every group's).</summary>
    public sealed record GroupRaftWrite(NodeId Group, RaftWrite Write) : IWireSerialized;

    /// <summary>The records of one role Ready, the data of one Raft entry of its group.</summary>
    public sealed record RecordBatch(ImmutableArray<object> Records) : IWireSerialized;

    /// <summary>One shard (or the coordinating group) as this node sees it.</summary>
    public sealed record GroupStatus(NodeId Group, string Name, NodeId? LeaderId, long Term, long AppliedIndex, bool Acting, IReadOnlyList<InDoubt> InDoubt);
}

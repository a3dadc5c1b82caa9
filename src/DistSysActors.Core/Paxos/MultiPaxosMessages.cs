using System.Collections.Immutable;

namespace DistSysActors.Core.Paxos;

/// <summary>
/// Multi-Paxos: a replicated log of slots, one Paxos instance per slot, under a stable leader that runs phase 1 once
/// for every slot from its first undecided one onward and then only phase 2 per command ("Paxos Made Simple",
/// section 3). A command is opaque bytes; null is a no-op (what a new leader puts into a hole).
/// </summary>
public static class MultiPaxos
{
    public const string Service = "paxos";

    public abstract record Message(NodeId From) : IWireSerialized;

    /// <summary>Phase 1a for every slot from <paramref name="FromSlot"/> on.</summary>
    public sealed record Prepare(NodeId From, Ballot Ballot, long FromSlot) : Message(From);

    /// <summary>
    /// Phase 1b: the acceptor promised <paramref name="Ballot"/> and reports every slot from FromSlot on that it
    /// accepted. Slots up to <paramref name="CompactedThrough"/> are decided and compacted into its snapshot: the new
    /// leader must learn them (catch-up), never propose into them.
    /// </summary>
    public sealed record Promise(NodeId From, Ballot Ballot, long FromSlot, long CompactedThrough, ImmutableArray<AcceptedSlot> Accepted) : Message(From);

    /// <summary>
    /// Phase 2a for the contiguous slots FirstSlot.. (one command each). <paramref name="DecidedThrough"/> announces that
    /// every slot up to it is decided: a receiver that accepted such a slot at this ballot learns its value from that.
    /// </summary>
    public sealed record Accept(NodeId From, Ballot Ballot, long FirstSlot, ImmutableArray<byte[]?> Commands, long DecidedThrough) : Message(From);

    /// <summary>Phase 2b for slots FirstSlot..LastSlot at <paramref name="Ballot"/>.</summary>
    public sealed record Accepted(NodeId From, Ballot Ballot, long FirstSlot, long LastSlot) : Message(From);

    /// <summary>The acceptor refused <paramref name="Ballot"/> (a Prepare, Accept or heartbeat) because it promised <paramref name="Promised"/>.</summary>
    public sealed record Rejected(NodeId From, Ballot Ballot, Ballot Promised) : Message(From);

    /// <summary>The leader's periodic message: keeps followers from campaigning, announces decided slots, numbers a read round.</summary>
    public sealed record Heartbeat(NodeId From, Ballot Ballot, long DecidedThrough, long Round) : Message(From);

    /// <summary>Answer to a heartbeat of <paramref name="Round"/>: still following that ballot; LearnedThrough is this node's first gap - 1.</summary>
    public sealed record HeartbeatAck(NodeId From, Ballot Ballot, long Round, long LearnedThrough) : Message(From);

    /// <summary>A lagging learner asks for the decided slots from <paramref name="FromSlot"/> on.</summary>
    public sealed record CatchUpRequest(NodeId From, long FromSlot) : Message(From);

    /// <summary>Decided slots from FirstSlot on, after <paramref name="Snapshot"/> when the asked-for slots were compacted.</summary>
    public sealed record CatchUpReply(NodeId From, long FirstSlot, ImmutableArray<byte[]?> Commands, PaxosSnapshot? Snapshot) : Message(From);

    /// <summary>A follower passes client commands on to the leader.</summary>
    public sealed record Forward(NodeId From, ImmutableArray<byte[]> Commands) : Message(From);

    /// <summary>A follower asks the leader for a linearizable read point.</summary>
    public sealed record ReadRequest(NodeId From, long RequestId, bool Lease) : Message(From);

    /// <summary>The leader confirmed its leadership after the request came: reading once <paramref name="Slot"/> is applied is linearizable.</summary>
    public sealed record ReadReply(NodeId From, long RequestId, long Slot) : Message(From);

    // ---- durable records ----

    /// <summary>The acceptor's promise (raised by a Prepare).</summary>
    public sealed record PromisedRecord(Ballot Promised) : IWireSerialized;

    /// <summary>The acceptor accepted these contiguous slots at <paramref name="Ballot"/> (which it thereby promised too).</summary>
    public sealed record AcceptedRecord(Ballot Ballot, long FirstSlot, ImmutableArray<byte[]?> Commands) : IWireSerialized;

    /// <summary>The highest round this node's proposer used, persisted before its Prepare leaves: ballots stay unique across restarts.</summary>
    public sealed record RoundRecord(long Round) : IWireSerialized;

    /// <summary>The state machine through a decided slot; accepted slots up to it are compacted away.</summary>
    public sealed record SnapshotRecord(PaxosSnapshot Snapshot) : IWireSerialized;

    /// <summary>Everything a node recovers from without older records: the acceptor, the proposer's round, the snapshot.</summary>
    public sealed record PersistentState(Ballot Promised, long RoundUsed, PaxosSnapshot? Snapshot, ImmutableArray<AcceptedSlot> Accepted) : IWireSerialized
    {
        public static readonly PersistentState Empty = new(Ballot.Zero, 0, null, []);
    }

    // ---- what the host gets (applies and answers) ----

    /// <summary>Apply: the decided command of <paramref name="Slot"/> (null: a no-op), in slot order.</summary>
    public sealed record Committed(long Slot, byte[]? Command);

    /// <summary>Apply: replace the state machine with this snapshot (caught up from a peer).</summary>
    public sealed record InstallSnapshot(PaxosSnapshot Snapshot);

    /// <summary>Answer: a read asked for is linearizable now (everything through its read slot is applied).</summary>
    public sealed record ReadReady(long RequestId, long Slot);

    /// <summary>Answer: a read could not be confirmed (no leader, leadership changed, timed out).</summary>
    public sealed record ReadDropped(long RequestId);

    /// <summary>Answer: the leader this node knows changed (null: none known).</summary>
    public sealed record LeaderChanged(NodeId? LeaderId, Ballot Ballot, bool Self);

    public enum Role { Follower, Candidate, Leader }

    public enum ProposeStatus { Proposed, Forwarded, Dropped }

    public sealed record ProposeResult(ProposeStatus Status, long Slot, NodeId? LeaderId, string? Reason = null);

    public sealed record Status(Role Role, Ballot Ballot, NodeId? LeaderId, long FirstUnchosenSlot, long LastDecidedSlot, long AppliedSlot,
        long SnapshotSlot, int AcceptedSlots, int InflightSlots, Ballot Promised);
}

/// <summary>A slot an acceptor accepted: the ballot and the command (null: no-op).</summary>
public sealed record AcceptedSlot(long Slot, Ballot Ballot, byte[]? Command)
{
    public bool Equals(AcceptedSlot? other) => other is not null && Slot == other.Slot && Ballot == other.Ballot && PaxosCommands.Same(Command, other.Command);

    public override int GetHashCode() => HashCode.Combine(Slot, Ballot, Command?.Length ?? -1);
}

/// <summary>The state machine's state through <see cref="Slot"/>.</summary>
public sealed record PaxosSnapshot(long Slot, byte[] Data)
{
    public bool Equals(PaxosSnapshot? other) => other is not null && Slot == other.Slot && Data.AsSpan().SequenceEqual(other.Data);

    public override int GetHashCode() => HashCode.Combine(Slot, Data.Length);

    public override string ToString() => $"snapshot@{Slot}[{Data.Length}B]";
}

public static class PaxosCommands
{
    /// <summary>Same command (byte-wise), or both no-ops.</summary>
    public static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    public static string Describe(byte[]? command) => command is null ? "no-op" : $"[{command.Length}B {Convert.ToHexString(command.AsSpan(0, Math.Min(8, command.Length)))}]";
}

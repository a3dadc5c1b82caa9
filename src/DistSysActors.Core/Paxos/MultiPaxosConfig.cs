using System.Collections.Immutable;

namespace DistSysActors.Core.Paxos;

/// <summary>Static configuration of one Multi-Paxos node. Times are in ms of the host's monotonic clock.</summary>
public sealed record MultiPaxosConfig
{
    public required NodeId Id { get; init; }

    /// <summary>Every node (acceptors and learners all), this one included.</summary>
    public required ImmutableArray<NodeId> Nodes { get; init; }

    public int HeartbeatIntervalMs { get; init; } = 50;

    /// <summary>A follower that hears no leader for a time drawn from [ElectionTimeoutMs, 2 * ElectionTimeoutMs) campaigns.</summary>
    public int ElectionTimeoutMs { get; init; } = 300;

    /// <summary>
    /// Taken off a lease: covers clocks running at different rates. A leader's lease lasts ElectionTimeoutMs - LeaseDriftMs
    /// from the sending of a heartbeat round a majority answered, because an acceptor that answered it refuses other
    /// proposers' Prepares for ElectionTimeoutMs after hearing it.
    /// </summary>
    public int LeaseDriftMs { get; init; } = 60;

    /// <summary>An Accept not answered by a majority is sent again after this long.</summary>
    public int RetransmitMs { get; init; } = 100;

    /// <summary>Commands in one Accept.</summary>
    public int AcceptBatchMax { get; init; } = 256;

    /// <summary>Proposed, undecided slots at once; further proposals are dropped (back pressure).</summary>
    public int InflightSlotsMax { get; init; } = 10_000;

    /// <summary>Decided slots in one catch-up reply.</summary>
    public int CatchUpBatchMax { get; init; } = 512;

    /// <summary>Decided slots kept below a snapshot, so a learner a little behind catches up without the whole snapshot.</summary>
    public int CompactionMarginSlots { get; init; } = 1_000;

    /// <summary>Reads waiting for confirmation or application; more are dropped.</summary>
    public int ReadsPendingMax { get; init; } = 4_096;

    /// <summary>A read not confirmed within this long is dropped.</summary>
    public int ReadTimeoutMs { get; init; } = 1_000;

    public const int NodesMax = 64;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Nodes.IsDefaultOrEmpty) errors.Add("Nodes must not be empty");
        else
        {
            if (!Nodes.Contains(Id)) errors.Add($"Nodes must contain Id {Id}");
            if (Nodes.Distinct().Count() != Nodes.Length) errors.Add("Nodes must be distinct");
            if (Nodes.Length > NodesMax) errors.Add($"Nodes must number at most {NodesMax}");
        }
        if (HeartbeatIntervalMs < 1) errors.Add("HeartbeatIntervalMs must be at least 1");
        if (ElectionTimeoutMs <= HeartbeatIntervalMs) errors.Add("ElectionTimeoutMs must exceed HeartbeatIntervalMs");
        if (LeaseDriftMs < 1 || LeaseDriftMs >= ElectionTimeoutMs) errors.Add("LeaseDriftMs must be within [1, ElectionTimeoutMs)");
        if (RetransmitMs < 1) errors.Add("RetransmitMs must be at least 1");
        if (AcceptBatchMax < 1) errors.Add("AcceptBatchMax must be at least 1");
        if (InflightSlotsMax < 1) errors.Add("InflightSlotsMax must be at least 1");
        if (CatchUpBatchMax < 1) errors.Add("CatchUpBatchMax must be at least 1");
        if (CompactionMarginSlots < 0) errors.Add("CompactionMarginSlots must not be negative");
        if (ReadsPendingMax < 1) errors.Add("ReadsPendingMax must be at least 1");
        if (ReadTimeoutMs < 1) errors.Add("ReadTimeoutMs must be at least 1");
        return errors;
    }
}

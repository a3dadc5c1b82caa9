using System.Globalization;
using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Simulation.Raft;

/// <summary>One node as the checker sees it: its live core (null while down) and what its disk holds.</summary>
public readonly record struct RaftNodeView(NodeId Id, RaftNode? Live, IReadOnlyList<LogEntry> PersistedLog);

/// <summary>
/// The safety properties of Raft (paper Figure 3), checked incrementally so they can run after every
/// simulation event: election safety, log matching, leader completeness, state-machine safety, and
/// durability (every committed entry is on a majority of persisted logs, so no crash can lose it).
/// </summary>
public sealed class RaftInvariantChecker(int clusterSize)
{
    private readonly Dictionary<long, NodeId> _leaderOfTerm = [];
    private readonly Dictionary<(long Index, long Term), (LogEntry Entry, long PrevTerm)> _entries = [];
    private readonly Dictionary<NodeId, List<LogEntry>> _verified = [];
    private readonly List<LogEntry> _committed = [];
    private readonly List<long> _committedInTerm = [];
    private readonly List<LogEntry> _appliedAt = [];
    private readonly Dictionary<NodeId, long> _lastApplied = [];
    private string? _applyViolation;

    public int Majority { get; } = clusterSize / 2 + 1;

    /// <summary>Committed entries seen so far, index 1 first.</summary>
    public IReadOnlyList<LogEntry> Committed => _committed;

    /// <summary>Records an entry a node's host applied (state-machine safety, apply order).</summary>
    public void OnApplied(NodeId node, LogEntry entry)
    {
        var last = _lastApplied.GetValueOrDefault(node);
        if (entry.Index != last + 1)
            _applyViolation ??= Fmt($"node {node} applied index {entry.Index} after {last}");
        _lastApplied[node] = entry.Index;
        if (entry.Index <= _appliedAt.Count)
        {
            if (!_appliedAt[(int)entry.Index - 1].Equals(entry))
                _applyViolation ??= Fmt($"state-machine safety: node {node} applied {entry} at {entry.Index} but another node applied {_appliedAt[(int)entry.Index - 1]}");
        }
        else if (entry.Index == _appliedAt.Count + 1) _appliedAt.Add(entry);
        else _applyViolation ??= Fmt($"node {node} applied {entry.Index} beyond the highest applied index {_appliedAt.Count}");
    }

    /// <summary>A node restarted: its state machine is rebuilt from index 1, and its volatile log copy is gone.</summary>
    public void OnRestart(NodeId node)
    {
        _lastApplied[node] = 0;
        _verified.Remove(node);
    }

    /// <summary>Null when every property holds, else a description of the first violation.</summary>
    public string? Check(IReadOnlyList<RaftNodeView> nodes)
    {
        if (_applyViolation is not null) return _applyViolation;
        foreach (var view in nodes)
        {
            if (view.Live is not { } node) continue;
            var violation = CheckElectionSafety(node) ?? CheckLogMatching(node) ?? RecordCommitted(node);
            if (violation is not null) return violation;
        }
        foreach (var view in nodes)
            if (view.Live is { Role: RaftRole.Leader } leader && CheckLeaderCompleteness(leader) is { } violation)
                return violation;
        return CheckDurability(nodes);
    }

    /// <summary>Section 5.2: at most one leader per term, over the whole run.</summary>
    private string? CheckElectionSafety(RaftNode node)
    {
        if (node.Role != RaftRole.Leader) return null;
        if (_leaderOfTerm.TryGetValue(node.Term, out var other))
            return other == node.Id ? null : Fmt($"election safety: nodes {other} and {node.Id} both leaders in term {node.Term}");
        _leaderOfTerm[node.Term] = node.Id;
        return null;
    }

    /// <summary>
    /// Section 5.3: entries with equal index and term are identical and so are their predecessors. Every (index, term)
    /// ever seen is registered with its content and the term before it; a node's log is checked only past the prefix
    /// verified earlier (entries are immutable objects, so an unchanged reference means an unchanged prefix).
    /// </summary>
    private string? CheckLogMatching(RaftNode node)
    {
        var log = node.Log;
        if (!_verified.TryGetValue(node.Id, out var verified)) _verified[node.Id] = verified = [];
        var keep = Math.Min(verified.Count, log.Count);
        while (keep > 0 && !ReferenceEquals(log[keep - 1], verified[keep - 1])) keep--;
        verified.RemoveRange(keep, verified.Count - keep);
        for (var i = keep; i < log.Count; i++)
        {
            var e = log[i];
            if (e.Index != i + 1) return Fmt($"node {node.Id}: log position {i + 1} holds index {e.Index}");
            var prevTerm = i == 0 ? 0 : log[i - 1].Term;
            if (e.Term < prevTerm) return Fmt($"node {node.Id}: term decreases at index {e.Index}");
            if (_entries.TryGetValue((e.Index, e.Term), out var known))
            {
                if (!known.Entry.Equals(e) || known.PrevTerm != prevTerm)
                    return Fmt($"log matching: node {node.Id} holds {e} (previous term {prevTerm}) but {known.Entry} (previous term {known.PrevTerm}) was seen at the same index and term");
            }
            else _entries[(e.Index, e.Term)] = (e, prevTerm);
            verified.Add(e);
        }
        return null;
    }

    /// <summary>Committed entries never change: each node's committed prefix must agree with every other's.</summary>
    private string? RecordCommitted(RaftNode node)
    {
        if (node.CommitIndex > node.LastLogIndex) return Fmt($"node {node.Id}: commit {node.CommitIndex} beyond last index {node.LastLogIndex}");
        var log = node.Log;
        var overlap = Math.Min(node.CommitIndex, _committed.Count);
        // By log matching, agreeing at the last shared committed index means agreeing on the whole prefix.
        if (overlap > 0 && !log[(int)overlap - 1].Equals(_committed[(int)overlap - 1]))
            return Fmt($"committed entry changed: node {node.Id} has {log[(int)overlap - 1]} at {overlap} but {_committed[(int)overlap - 1]} was committed");
        for (var i = _committed.Count; i < node.CommitIndex; i++)
        {
            _committed.Add(log[i]);
            _committedInTerm.Add(node.Term);
        }
        return null;
    }

    /// <summary>Section 5.4: a leader holds every entry committed in an earlier term.</summary>
    private string? CheckLeaderCompleteness(RaftNode leader)
    {
        var i = _committed.Count;
        while (i > 0 && _committedInTerm[i - 1] >= leader.Term) i--;
        if (i == 0) return null;
        var log = leader.Log;
        if (log.Count < i || !log[i - 1].Equals(_committed[i - 1]))
            return Fmt($"leader completeness: leader {leader.Id} of term {leader.Term} lacks committed entry {_committed[i - 1]} (committed in term {_committedInTerm[i - 1]})");
        return null;
    }

    /// <summary>A committed entry is on a majority of disks; otherwise crashes could erase it.</summary>
    private string? CheckDurability(IReadOnlyList<RaftNodeView> nodes)
    {
        if (_committed.Count == 0) return null;
        var last = _committed[^1];
        var copies = 0;
        foreach (var view in nodes)
        {
            var persisted = view.PersistedLog;
            if (persisted.Count >= last.Index && persisted[(int)last.Index - 1].Equals(last)) copies++;
        }
        return copies >= Majority ? null : Fmt($"durability: committed entry {last} is persisted on only {copies} of {nodes.Count} nodes");
    }

    private static string Fmt(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

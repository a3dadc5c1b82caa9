using System.Globalization;
using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Simulation.Raft;

/// <summary>
/// One node as the checker sees it: its live core (null while down) and what its disk holds: the snapshot's position
/// (0@0 without one) and the log entries after it.
/// </summary>
public readonly record struct RaftNodeView(
    NodeId Id, RaftNode? Live, IReadOnlyList<LogEntry> PersistedLog, long PersistedSnapshotIndex = 0, long PersistedSnapshotTerm = 0);

/// <summary>The property a <see cref="RaftViolation"/> breaks; tests assert it to show which check fired.</summary>
public enum RaftInvariant
{
    /// <summary>At most one leader per term (paper 5.2).</summary>
    ElectionSafety,
    /// <summary>Entries with equal index and term are identical, and so are the entries before them (5.3).</summary>
    LogMatching,
    /// <summary>A node's log is well formed: consecutive indexes, terms never decreasing, a snapshot right under its first entry.</summary>
    LogShape,
    /// <summary>Committed entries never change, and no commit index passes the end of its log.</summary>
    CommittedPrefix,
    /// <summary>A leader holds every entry committed in an earlier term (5.4).</summary>
    LeaderCompleteness,
    /// <summary>Every node applies the same entry at an index, and snapshots at one index are identical (5.4.3).</summary>
    StateMachineSafety,
    /// <summary>A node applies entries one after another from where its state machine stands; a snapshot matches its applied index.</summary>
    ApplyOrder,
    /// <summary>A snapshot stands for an applied, committed prefix: a committed position, with the membership committed there.</summary>
    Snapshot,
    /// <summary>A node's persisted snapshot never moves back, and its persisted log continues right after it.</summary>
    PersistedSnapshot,
    /// <summary>The latest committed entry is on a majority of the voters' disks.</summary>
    Durability,
}

/// <summary>One broken property: which rule, and what the checker saw.</summary>
public sealed record RaftViolation(RaftInvariant Rule, string Description)
{
    /// <summary>The rule in words, then the description (e.g. "election safety: nodes 1 and 2 both leaders in term 4").</summary>
    public override string ToString() =>
        string.Concat(Rule.ToString().Select((ch, i) => char.IsUpper(ch) && i > 0 ? " " + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()))
        + ": " + Description;
}

/// <summary>
/// The safety properties of Raft (paper Figure 3), checked incrementally so they can run after every
/// simulation event: election safety, log matching, leader completeness, state-machine safety, and
/// durability (every committed entry is on a majority of persisted logs, so no crash can lose it).
/// Logs may be compacted: a node holds a snapshot (index, term) and the entries after it, and the properties
/// are checked on what each node still holds, with snapshots standing for the committed prefix they cover.
/// </summary>
public sealed class RaftInvariantChecker
{
    private readonly Membership _initialMembership;
    private readonly Dictionary<long, NodeId> _leaderOfTerm = [];
    private readonly Dictionary<(long Index, long Term), (LogEntry Entry, long PrevTerm)> _entries = [];
    private readonly Dictionary<NodeId, VerifiedLog> _verified = [];
    private readonly List<LogEntry> _committed = [];
    private readonly List<long> _committedInTerm = [];
    // Membership after each committed ConfChange entry, in index order (the initial membership before the first).
    private readonly List<(long Index, Membership Membership)> _committedMemberships = [];
    // ConfChange entries seen in some log but not yet known committed: the membership a leader may be counting on.
    private readonly Dictionary<(long Index, long Term), LogEntry> _pendingConfChanges = [];
    private readonly List<LogEntry> _appliedAt = [];
    private readonly Dictionary<NodeId, long> _lastApplied = [];
    private readonly Dictionary<long, (long Term, ulong Hash, NodeId Node)> _snapshotAt = [];
    private readonly Dictionary<NodeId, long> _persistedSnapshotHigh = [];
    private readonly List<NodeId> _copies = [];
    private RaftViolation? _applyViolation;

    /// <summary>A checker for a cluster whose voters are nodes 1..clusterSize from the start.</summary>
    public RaftInvariantChecker(int clusterSize) : this(Enumerable.Range(1, clusterSize).Select(i => new NodeId(i))) { }

    /// <summary>A checker for a cluster that starts with <paramref name="initialVoters"/> (other nodes join later).</summary>
    public RaftInvariantChecker(IEnumerable<NodeId> initialVoters)
    {
        _initialMembership = new Membership(initialVoters, []);
        if (_initialMembership.Voters.IsEmpty) throw new ArgumentException("a cluster needs at least one voter", nameof(initialVoters));
    }

    private sealed class VerifiedLog(long first)
    {
        public long First { get; set; } = first;
        public List<LogEntry> Entries { get; } = [];
    }

    /// <summary>Committed entries seen so far, index 1 first.</summary>
    public IReadOnlyList<LogEntry> Committed => _committed;

    /// <summary>The membership after every committed entry seen so far.</summary>
    public Membership CommittedMembership => _committedMemberships.Count == 0 ? _initialMembership : _committedMemberships[^1].Membership;

    /// <summary>Snapshots recorded so far (taken or installed), one per index.</summary>
    public int SnapshotIndexesSeen => _snapshotAt.Count;

    /// <summary>Records an entry a node's host applied (state-machine safety, apply order).</summary>
    public void OnApplied(NodeId node, LogEntry entry)
    {
        var last = _lastApplied.GetValueOrDefault(node);
        if (entry.Index != last + 1)
            _applyViolation ??= Fmt(RaftInvariant.ApplyOrder, $"node {node} applied index {entry.Index} after {last}");
        _lastApplied[node] = entry.Index;
        if (entry.Index <= _appliedAt.Count)
        {
            if (!_appliedAt[(int)entry.Index - 1].Equals(entry))
                _applyViolation ??= Fmt(RaftInvariant.StateMachineSafety, $"node {node} applied {entry} at {entry.Index} but another node applied {_appliedAt[(int)entry.Index - 1]}");
        }
        else if (entry.Index == _appliedAt.Count + 1) _appliedAt.Add(entry);
        else _applyViolation ??= Fmt(RaftInvariant.ApplyOrder, $"node {node} applied {entry.Index} beyond the highest applied index {_appliedAt.Count}");
    }

    /// <summary>
    /// A node's state machine now holds the snapshot: taken by its host after applying Meta.Index, or installed from a
    /// leader. Snapshots at one index must be byte-identical everywhere (the state machine's encoding is canonical), and
    /// an installed snapshot must not take the applied state back.
    /// </summary>
    public void OnSnapshot(NodeId node, SnapshotMeta meta, byte[] data, bool installed)
    {
        ArgumentNullException.ThrowIfNull(meta);
        ArgumentNullException.ThrowIfNull(data);
        var last = _lastApplied.GetValueOrDefault(node);
        if (installed ? meta.Index < last : meta.Index != last)
            _applyViolation ??= Fmt(RaftInvariant.ApplyOrder, $"node {node} {(installed ? "installed" : "took")} snapshot {meta.Index}@{meta.Term} with applied index {last}");
        if (installed) _lastApplied[node] = meta.Index;
        var hash = Fnv1a(data);
        if (_snapshotAt.TryGetValue(meta.Index, out var known))
        {
            if (known.Term != meta.Term || known.Hash != hash)
                _applyViolation ??= Fmt(RaftInvariant.StateMachineSafety, $"node {node} has snapshot {meta.Index}@{meta.Term} unlike node {known.Node}'s {meta.Index}@{known.Term}");
        }
        else _snapshotAt[meta.Index] = (meta.Term, hash, node);
        if (meta.Index <= _appliedAt.Count && _appliedAt[(int)meta.Index - 1].Term != meta.Term)
            _applyViolation ??= Fmt(RaftInvariant.StateMachineSafety, $"node {node}: snapshot {meta.Index}@{meta.Term} but {_appliedAt[(int)meta.Index - 1]} was applied there");
    }

    /// <summary>A node restarted with its state machine restored through <paramref name="restoredIndex"/> (0: from scratch); its volatile log copy is gone.</summary>
    public void OnRestart(NodeId node, long restoredIndex = 0)
    {
        _lastApplied[node] = restoredIndex;
        _verified.Remove(node);
    }

    /// <summary>Null when every property holds, else the first violation and the rule it breaks.</summary>
    public RaftViolation? Check(IReadOnlyList<RaftNodeView> nodes)
    {
        if (_applyViolation is not null) return _applyViolation;
        foreach (var view in nodes)
        {
            if (view.Live is not { } node) continue;
            var violation = CheckElectionSafety(node) ?? CheckLogMatching(node) ?? RecordCommitted(node) ?? CheckSnapshot(node);
            if (violation is not null) return violation;
        }
        foreach (var view in nodes)
            if (view.Live is { Role: RaftRole.Leader } leader && CheckLeaderCompleteness(leader) is { } violation)
                return violation;
        return CheckPersistedSnapshots(nodes) ?? CheckDurability(nodes);
    }

    /// <summary>Section 5.2: at most one leader per term, over the whole run.</summary>
    private RaftViolation? CheckElectionSafety(RaftNode node)
    {
        if (node.Role != RaftRole.Leader) return null;
        if (_leaderOfTerm.TryGetValue(node.Term, out var other))
            return other == node.Id ? null : Fmt(RaftInvariant.ElectionSafety, $"nodes {other} and {node.Id} both leaders in term {node.Term}");
        _leaderOfTerm[node.Term] = node.Id;
        return null;
    }

    /// <summary>
    /// Section 5.3: entries with equal index and term are identical and so are their predecessors. Every (index, term)
    /// ever seen is registered with its content and the term before it; a node's log is checked only past the prefix
    /// verified earlier (entries are immutable objects, so an unchanged reference means an unchanged prefix).
    /// </summary>
    private RaftViolation? CheckLogMatching(RaftNode node)
    {
        var log = node.Log;
        var first = node.FirstLogIndex;
        if (!_verified.TryGetValue(node.Id, out var verified) || verified.First > first) _verified[node.Id] = verified = new VerifiedLog(first);
        if (verified.First < first)
        {
            // Compacted since the last check: the verified prefix loses the same entries.
            verified.Entries.RemoveRange(0, (int)Math.Min(first - verified.First, verified.Entries.Count));
            verified.First = first;
        }
        var keep = Math.Min(verified.Entries.Count, log.Count);
        while (keep > 0 && !ReferenceEquals(log[keep - 1], verified.Entries[keep - 1])) keep--;
        verified.Entries.RemoveRange(keep, verified.Entries.Count - keep);
        // The log starts right after the snapshot, or earlier when compaction kept a margin of entries before it (then
        // the snapshot's entry is in the log with the snapshot's term).
        long? snapshotTerm = first == 1 ? 0
            : node.Snapshot is not { } s ? null
            : s.Meta.Index == first - 1 ? s.Meta.Term
            : s.Meta.Index >= first && s.Meta.Index < first + log.Count && log[(int)(s.Meta.Index - first)].Term == s.Meta.Term ? -1
            : null;
        if (snapshotTerm is null) return Fmt(RaftInvariant.LogShape, $"node {node.Id}: log starts at {first} without a snapshot at {first - 1} or within its first entries");
        for (var i = keep; i < log.Count; i++)
        {
            var e = log[i];
            if (e.Index != first + i) return Fmt(RaftInvariant.LogShape, $"node {node.Id}: log position {first + i} holds index {e.Index}");
            // -1: the first entry of a margin kept before the snapshot, whose previous term this node no longer knows.
            var prevTerm = i == 0 ? snapshotTerm.Value : log[i - 1].Term;
            if (e.Term < prevTerm) return Fmt(RaftInvariant.LogShape, $"node {node.Id}: term decreases at index {e.Index}");
            if (_entries.TryGetValue((e.Index, e.Term), out var known))
            {
                if (!known.Entry.Equals(e) || (known.PrevTerm != prevTerm && prevTerm >= 0 && known.PrevTerm >= 0))
                    return Fmt(RaftInvariant.LogMatching, $"node {node.Id} holds {e} (previous term {prevTerm}) but {known.Entry} (previous term {known.PrevTerm}) was seen at the same index and term");
            }
            else
            {
                _entries[(e.Index, e.Term)] = (e, prevTerm);
                if (e.Type == EntryType.ConfChange && e.Index > _committed.Count) _pendingConfChanges[(e.Index, e.Term)] = e;
            }
            verified.Entries.Add(e);
        }
        return null;
    }

    /// <summary>Committed entries never change: each node's committed prefix must agree with every other's.</summary>
    private RaftViolation? RecordCommitted(RaftNode node)
    {
        if (node.CommitIndex > node.LastLogIndex) return Fmt(RaftInvariant.CommittedPrefix, $"node {node.Id}: commit {node.CommitIndex} beyond last index {node.LastLogIndex}");
        var log = node.Log;
        var first = node.FirstLogIndex;
        var overlap = Math.Min(node.CommitIndex, _committed.Count);
        // By log matching, agreeing at the last shared committed index means agreeing on the whole prefix.
        if (overlap >= first && !log[(int)(overlap - first)].Equals(_committed[(int)overlap - 1]))
            return Fmt(RaftInvariant.CommittedPrefix, $"node {node.Id} has {log[(int)(overlap - first)]} at {overlap} but {_committed[(int)overlap - 1]} was committed");
        // (Only when the log starts right after the snapshot: with a compaction margin the entry before the log is not the snapshot's.)
        if (overlap > 0 && overlap == first - 1 && node.Snapshot!.Meta.Index == overlap && node.Snapshot.Meta.Term != _committed[(int)overlap - 1].Term)
            return Fmt(RaftInvariant.CommittedPrefix, $"node {node.Id} has snapshot {overlap}@{node.Snapshot.Meta.Term} but {_committed[(int)overlap - 1]} was committed");
        for (var i = _committed.Count + 1; i <= node.CommitIndex; i++)
        {
            // A prefix compacted before the checker saw it committed was applied by this node or the snapshot's maker.
            var entry = i >= first ? log[(int)(i - first)] : i <= _appliedAt.Count ? _appliedAt[i - 1] : null;
            if (entry is null) return Fmt(RaftInvariant.Snapshot, $"node {node.Id}: committed index {i} is compacted but no node applied it");
            _committed.Add(entry);
            _committedInTerm.Add(node.Term);
            if (entry.Type == EntryType.ConfChange) _committedMemberships.Add((entry.Index, After(CommittedMembership, entry)));
        }
        if (_pendingConfChanges.Count > 0)
            foreach (var stale in _pendingConfChanges.Keys.Where(k => k.Index <= _committed.Count).ToList()) _pendingConfChanges.Remove(stale);
        return null;
    }

    /// <summary>A snapshot stands for a committed prefix: its position must be that of a committed entry, its membership the committed one.</summary>
    private RaftViolation? CheckSnapshot(RaftNode node)
    {
        if (node.Snapshot is not { Meta: var meta }) return null;
        if (meta.Index < 1) return Fmt(RaftInvariant.Snapshot, $"node {node.Id}: snapshot at index {meta.Index}");
        if (meta.Index > _committed.Count) return Fmt(RaftInvariant.Snapshot, $"node {node.Id}: snapshot {meta.Index}@{meta.Term} beyond the committed index {_committed.Count}");
        if (_committed[(int)meta.Index - 1].Term != meta.Term)
            return Fmt(RaftInvariant.Snapshot, $"node {node.Id}: snapshot {meta.Index}@{meta.Term} but {_committed[(int)meta.Index - 1]} was committed");
        var expected = MembershipAt(meta.Index);
        return meta.Membership.Equals(expected) ? null : Fmt(RaftInvariant.Snapshot, $"node {node.Id}: snapshot {meta.Index} carries membership {meta.Membership}, committed was {expected}");
    }

    private Membership MembershipAt(long index)
    {
        var m = _initialMembership;
        foreach (var (at, membership) in _committedMemberships)
        {
            if (at > index) break;
            m = membership;
        }
        return m;
    }

    /// <summary>Section 5.4: a leader holds every entry committed in an earlier term (as an entry, or under its snapshot).</summary>
    private RaftViolation? CheckLeaderCompleteness(RaftNode leader)
    {
        var i = _committed.Count;
        while (i > 0 && _committedInTerm[i - 1] >= leader.Term) i--;
        if (i == 0 || i < leader.FirstLogIndex) return null;
        var log = leader.Log;
        var position = i - (int)leader.FirstLogIndex;
        if (log.Count <= position || !log[position].Equals(_committed[i - 1]))
            return Fmt(RaftInvariant.LeaderCompleteness, $"leader {leader.Id} of term {leader.Term} lacks committed entry {_committed[i - 1]} (committed in term {_committedInTerm[i - 1]})");
        return null;
    }

    /// <summary>A node's durable snapshot never moves back: its applied state, rebuilt from it after a crash, never goes backwards.</summary>
    private RaftViolation? CheckPersistedSnapshots(IReadOnlyList<RaftNodeView> nodes)
    {
        foreach (var view in nodes)
        {
            var high = _persistedSnapshotHigh.GetValueOrDefault(view.Id);
            if (view.PersistedSnapshotIndex < high)
                return Fmt(RaftInvariant.PersistedSnapshot, $"node {view.Id}: persisted snapshot moved back from {high} to {view.PersistedSnapshotIndex}");
            _persistedSnapshotHigh[view.Id] = view.PersistedSnapshotIndex;
            if (view.PersistedLog.Count > 0 && view.PersistedLog[0].Index != view.PersistedSnapshotIndex + 1)
                return Fmt(RaftInvariant.PersistedSnapshot, $"node {view.Id}: persisted log starts at {view.PersistedLog[0].Index} after snapshot {view.PersistedSnapshotIndex}");
        }
        return null;
    }

    /// <summary>
    /// A committed entry is on a majority of the voters' disks (as an entry or under a snapshot); otherwise crashes could
    /// erase it. The voters are those at the entry, or those of a pending membership change after it, which a leader counts
    /// on from the moment it appends the change (dissertation 4.1).
    /// </summary>
    private RaftViolation? CheckDurability(IReadOnlyList<RaftNodeView> nodes)
    {
        if (_committed.Count == 0) return null;
        var last = _committed[^1];
        var at = CommittedMembership;
        var copies = _copies;
        copies.Clear();
        foreach (var view in nodes)
        {
            if (view.PersistedSnapshotIndex >= last.Index) { copies.Add(view.Id); continue; }
            var position = last.Index - view.PersistedSnapshotIndex - 1;
            if (view.PersistedLog.Count > position && view.PersistedLog[(int)position].Equals(last)) copies.Add(view.Id);
        }
        if (HasMajority(at, copies)) return null;
        foreach (var change in _pendingConfChanges.Values)
            if (HasMajority(After(at, change), copies)) return null;
        return Fmt(RaftInvariant.Durability, $"committed entry {last} is persisted on only {copies.Count} nodes ({string.Join(",", copies)}) of voters {at}");
    }

    /// <summary>The membership a ConfChange entry leads to: the one it carries, else its change applied (if valid), as in RaftNode.</summary>
    private static Membership After(Membership m, LogEntry e)
    {
        if (ConfChange.DecodeMembership(e.Data) is { } carried) return carried;
        var change = ConfChange.Decode(e.Data);
        return m.Check(change) is null ? m.Apply(change) : m;
    }

    private static bool HasMajority(Membership m, IReadOnlyCollection<NodeId> copies) => copies.Count(m.IsVoter) >= m.Voters.Length / 2 + 1;

    private static ulong Fnv1a(byte[] data)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in data) hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }

    private static RaftViolation Fmt(RaftInvariant rule, FormattableString s) => new(rule, s.ToString(CultureInfo.InvariantCulture));
}

namespace DistSysActors.Core.Raft;

/// <summary>
/// The in-memory copy of a node's log: the entries after the last snapshot (index <see cref="SnapshotIndex"/>,
/// term <see cref="SnapshotTerm"/>), with the boundary between entries the host has made durable (through
/// <see cref="StableIndex"/>) and entries still to be persisted. Indexes start at 1; a fresh log has snapshot 0@0.
/// </summary>
internal sealed class RaftLog
{
    private readonly List<LogEntry> _entries = [];

    public RaftLog(IReadOnlyList<LogEntry> persisted, long snapshotIndex = 0, long snapshotTerm = 0)
    {
        if (snapshotIndex < 0 || snapshotTerm < 0 || (snapshotIndex == 0) != (snapshotTerm == 0))
            throw new ArgumentException($"invalid snapshot position {snapshotIndex}@{snapshotTerm}");
        SnapshotIndex = snapshotIndex;
        SnapshotTerm = snapshotTerm;
        for (var i = 0; i < persisted.Count; i++)
        {
            var e = persisted[i];
            if (e.Index != snapshotIndex + i + 1)
                throw new ArgumentException($"persisted entries must be contiguous from {snapshotIndex + 1}; entry {i} has index {e.Index}");
            if (e.Term < (i > 0 ? persisted[i - 1].Term : snapshotTerm))
                throw new ArgumentException($"persisted entry {e.Index} has a smaller term than its predecessor");
            _entries.Add(e);
        }
        StableIndex = LastIndex;
    }

    /// <summary>Index of the last entry covered by the snapshot (0 when there is none).</summary>
    public long SnapshotIndex { get; private set; }
    public long SnapshotTerm { get; private set; }
    /// <summary>First index still held as an entry.</summary>
    public long FirstIndex => SnapshotIndex + 1;
    public long LastIndex => SnapshotIndex + _entries.Count;
    public long LastTerm => _entries.Count == 0 ? SnapshotTerm : _entries[^1].Term;
    public long StableIndex { get; private set; }
    public int Count => _entries.Count;

    /// <summary>Whether the entry at index was dropped by compaction (its term may still be known at SnapshotIndex).</summary>
    public bool IsCompacted(long index) => index < SnapshotIndex;

    /// <summary>
    /// Term of the entry at index: 0 for index 0, the snapshot's term at SnapshotIndex, null when the index is beyond
    /// the log or compacted away (check <see cref="IsCompacted"/> to tell those apart).
    /// </summary>
    public long? TermAt(long index)
    {
        if (index == SnapshotIndex) return SnapshotTerm;
        if (index == 0) return 0;
        if (index < SnapshotIndex || index > LastIndex) return null;
        return _entries[(int)(index - SnapshotIndex - 1)].Term;
    }

    public LogEntry At(long index)
    {
        if (index <= SnapshotIndex || index > LastIndex) throw new ArgumentOutOfRangeException(nameof(index), $"entry {index} is not in the log ({FirstIndex}..{LastIndex})");
        return _entries[(int)(index - SnapshotIndex - 1)];
    }

    public bool MatchTerm(long index, long term) => TermAt(index) == term;

    /// <summary>Raft paper section 5.4.1: the candidate's log is at least as up-to-date as ours.</summary>
    public bool IsUpToDate(long lastIndex, long lastTerm) => lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    /// <summary>Entries in [from, toInclusive] (from must not be compacted), at most countMax and bytesMax (always at least one if any).</summary>
    public List<LogEntry> Slice(long from, long toInclusive, int countMax, long bytesMax)
    {
        var result = new List<LogEntry>();
        if (from <= SnapshotIndex) throw new InvalidOperationException($"entries from {from} were compacted (snapshot at {SnapshotIndex})");
        long bytes = 0;
        for (var i = from; i <= Math.Min(toInclusive, LastIndex) && result.Count < countMax; i++)
        {
            var e = At(i);
            bytes += e.Data.Length;
            if (result.Count > 0 && bytes > bytesMax) break;
            result.Add(e);
        }
        return result;
    }

    public void Append(LogEntry entry)
    {
        if (entry.Index != LastIndex + 1) throw new InvalidOperationException($"append at {entry.Index} but last index is {LastIndex}");
        if (entry.Term < LastTerm) throw new InvalidOperationException($"append term {entry.Term} below last term {LastTerm}");
        _entries.Add(entry);
    }

    /// <summary>Drops every entry from index on; the stable boundary moves back if needed.</summary>
    public void TruncateFrom(long index)
    {
        if (index <= SnapshotIndex) throw new InvalidOperationException($"cannot truncate at {index}: snapshot covers {SnapshotIndex}");
        if (index > LastIndex) return;
        _entries.RemoveRange((int)(index - SnapshotIndex - 1), (int)(LastIndex - index + 1));
        StableIndex = Math.Min(StableIndex, index - 1);
    }

    /// <summary>Drops the entries through index (which must be in the log); they are covered by a snapshot at index.</summary>
    public void CompactTo(long index)
    {
        if (index <= SnapshotIndex) return;
        var term = TermAt(index) ?? throw new InvalidOperationException($"cannot compact to {index}: beyond last index {LastIndex}");
        _entries.RemoveRange(0, (int)(index - SnapshotIndex));
        SnapshotIndex = index;
        SnapshotTerm = term;
        StableIndex = Math.Max(StableIndex, index);
    }

    /// <summary>
    /// Installs a snapshot received from a leader (Raft paper Figure 13) that this log does not hold: the whole log is
    /// discarded, as the host replaces its whole stored log by the snapshot. A log holding the snapshot's index and term
    /// is not restored at all (the node only commits through it, like etcd's raft), so no entry is ever kept here.
    /// </summary>
    public void RestoreSnapshot(long index, long term)
    {
        if (index <= LastIndex && MatchTerm(index, term))
            throw new InvalidOperationException($"the log holds snapshot {index}@{term}: commit through it instead of restoring it");
        _entries.Clear();
        SnapshotIndex = index;
        SnapshotTerm = term;
        StableIndex = index;
    }

    /// <summary>The host made entries through index durable (ignored if the log changed there since).</summary>
    public void StableTo(long index, long term)
    {
        if (index > StableIndex && MatchTerm(index, term)) StableIndex = index;
    }

    /// <summary>First index of the run of entries with the same term as the entry at index (not below floor + 1 or the first held entry).</summary>
    public long FirstIndexOfTermAt(long index, long floor)
    {
        var term = TermAt(index) ?? throw new ArgumentOutOfRangeException(nameof(index));
        var i = index;
        floor = Math.Max(floor, SnapshotIndex);
        while (i - 1 > floor && TermAt(i - 1) == term) i--;
        return i;
    }

    /// <summary>Last index at or below fromIndex whose term is term, or null if none is held.</summary>
    public long? LastIndexOfTerm(long term, long fromIndex)
    {
        for (var i = Math.Min(fromIndex, LastIndex); i > SnapshotIndex; i--)
        {
            var t = At(i).Term;
            if (t == term) return i;
            if (t < term) return null; // terms only grow along the log
        }
        return SnapshotTerm == term && SnapshotIndex > 0 ? SnapshotIndex : null;
    }

    /// <summary>The entries after the snapshot, from <see cref="FirstIndex"/>.</summary>
    public IReadOnlyList<LogEntry> Entries => _entries;
}

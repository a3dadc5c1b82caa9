namespace DistSysActors.Core.Raft;

/// <summary>
/// The in-memory copy of a node's log, indexes from 1, with the boundary between entries the host
/// has made durable (through <see cref="StableIndex"/>) and entries still to be persisted.
/// </summary>
internal sealed class RaftLog
{
    private readonly List<LogEntry> _entries = [];

    public RaftLog(IReadOnlyList<LogEntry> persisted)
    {
        for (var i = 0; i < persisted.Count; i++)
        {
            var e = persisted[i];
            if (e.Index != i + 1) throw new ArgumentException($"persisted entries must be contiguous from 1; entry {i} has index {e.Index}");
            if (i > 0 && e.Term < persisted[i - 1].Term) throw new ArgumentException($"persisted entry {e.Index} has a smaller term than its predecessor");
            _entries.Add(e);
        }
        StableIndex = LastIndex;
    }

    public long LastIndex => _entries.Count;
    public long LastTerm => _entries.Count == 0 ? 0 : _entries[^1].Term;
    public long StableIndex { get; private set; }

    /// <summary>Term of the entry at index; 0 for index 0; null when the index is beyond the log.</summary>
    public long? TermAt(long index)
    {
        if (index == 0) return 0;
        if (index < 0 || index > LastIndex) return null;
        return _entries[(int)(index - 1)].Term;
    }

    public LogEntry At(long index) => _entries[(int)(index - 1)];

    public bool MatchTerm(long index, long term) => TermAt(index) == term;

    /// <summary>Raft paper section 5.4.1: the candidate's log is at least as up-to-date as ours.</summary>
    public bool IsUpToDate(long lastIndex, long lastTerm) => lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    /// <summary>Entries in [from, toInclusive], at most countMax and bytesMax (always at least one if any).</summary>
    public List<LogEntry> Slice(long from, long toInclusive, int countMax, long bytesMax)
    {
        var result = new List<LogEntry>();
        long bytes = 0;
        for (var i = Math.Max(from, 1); i <= Math.Min(toInclusive, LastIndex) && result.Count < countMax; i++)
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
        if (index < 1 || index > LastIndex) return;
        _entries.RemoveRange((int)(index - 1), (int)(LastIndex - index + 1));
        StableIndex = Math.Min(StableIndex, index - 1);
    }

    /// <summary>The host made entries through index durable (ignored if the log changed there since).</summary>
    public void StableTo(long index, long term)
    {
        if (index > StableIndex && MatchTerm(index, term)) StableIndex = index;
    }

    /// <summary>First index of the run of entries with the same term as the entry at index.</summary>
    public long FirstIndexOfTermAt(long index, long floor)
    {
        var term = TermAt(index) ?? throw new ArgumentOutOfRangeException(nameof(index));
        var i = index;
        while (i - 1 > floor && TermAt(i - 1) == term) i--;
        return i;
    }

    /// <summary>Last index at or below fromIndex whose term is term, or null if none.</summary>
    public long? LastIndexOfTerm(long term, long fromIndex)
    {
        for (var i = Math.Min(fromIndex, LastIndex); i >= 1; i--)
        {
            var t = At(i).Term;
            if (t == term) return i;
            if (t < term) return null; // terms only grow along the log
        }
        return null;
    }

    public IReadOnlyList<LogEntry> Entries => _entries;
}

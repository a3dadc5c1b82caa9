namespace DistSysActors.Simulation;

/// <summary>
/// A node's simulated durable storage: named values and named append-only logs. A write is durable
/// as soon as the call returns (the simulated disk has no write cache), and the same instance is
/// handed to the node factory after a restart, so anything not written here is lost on a crash.
/// Store immutable values (records, immutable collections): a mutable object kept both here and in a
/// node's fields would let volatile state leak across a crash.
/// </summary>
public sealed class SimStorage
{
    /// <summary>Limit on values plus log records held by one node, so a runaway protocol fails loudly.</summary>
    public const int RecordsMax = 10_000_000;

    private readonly SortedDictionary<string, object> _values = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, ISimLog> _logs = new(StringComparer.Ordinal);

    public SimStorage(Core.NodeId node) => Node = node;

    public Core.NodeId Node { get; }

    /// <summary>Number of write calls (Put, Remove, log appends and truncations), for tests that bound persistence work.</summary>
    public long WriteCount { get; private set; }

    public int RecordCount => _values.Count + _logs.Values.Sum(l => l.Count);

    public void Put<T>(string key, T value) where T : notnull
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_values.ContainsKey(key)) EnsureRoom(1);
        _values[key] = value;
        WriteCount++;
    }

    public bool TryGet<T>(string key, out T value)
    {
        if (_values.TryGetValue(key, out var stored))
        {
            value = (T)stored;
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>The stored value, or <paramref name="fallback"/> when the key was never written.</summary>
    public T Get<T>(string key, T fallback) => TryGet<T>(key, out var value) ? value : fallback;

    public bool Remove(string key)
    {
        WriteCount++;
        return _values.Remove(key);
    }

    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>The durable log named <paramref name="name"/>, created empty on first use.</summary>
    public SimLog<T> Log<T>(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_logs.TryGetValue(name, out var existing))
            return existing as SimLog<T>
                ?? throw new InvalidOperationException($"log '{name}' on node {Node} holds {existing.RecordType.Name}, not {typeof(T).Name}");
        var log = new SimLog<T>(this);
        _logs[name] = log;
        return log;
    }

    internal void OnWrite(int recordsAdded)
    {
        if (recordsAdded > 0) EnsureRoom(recordsAdded);
        WriteCount++;
    }

    private void EnsureRoom(int records)
    {
        if (RecordCount + records > RecordsMax)
            throw new InvalidOperationException($"node {Node} storage exceeds RecordsMax={RecordsMax}");
    }

    internal interface ISimLog
    {
        int Count { get; }
        Type RecordType { get; }
    }
}

/// <summary>
/// A durable log of records addressed by a position that never shifts: <see cref="FirstIndex"/> rises when
/// a prefix is compacted away, and a suffix can be truncated (e.g. Raft's conflicting entries).
/// </summary>
public sealed class SimLog<T> : SimStorage.ISimLog
{
    private readonly SimStorage _owner;
    private readonly List<T> _records = [];

    internal SimLog(SimStorage owner) => _owner = owner;

    /// <summary>Position of the first record still held (0 until a prefix is removed).</summary>
    public long FirstIndex { get; private set; }

    /// <summary>Position the next appended record gets.</summary>
    public long NextIndex => FirstIndex + _records.Count;

    public int Count => _records.Count;

    Type SimStorage.ISimLog.RecordType => typeof(T);

    public T this[long index]
    {
        get
        {
            if (index < FirstIndex || index >= NextIndex)
                throw new ArgumentOutOfRangeException(nameof(index), $"index {index} outside [{FirstIndex}, {NextIndex})");
            return _records[(int)(index - FirstIndex)];
        }
    }

    public void Append(T record)
    {
        _owner.OnWrite(1);
        _records.Add(record);
    }

    public void AppendRange(IReadOnlyCollection<T> records)
    {
        _owner.OnWrite(records.Count);
        _records.AddRange(records);
    }

    /// <summary>Deletes every record at position <paramref name="index"/> and after.</summary>
    public void TruncateFrom(long index)
    {
        if (index < FirstIndex || index > NextIndex)
            throw new ArgumentOutOfRangeException(nameof(index), $"index {index} outside [{FirstIndex}, {NextIndex}]");
        _owner.OnWrite(0);
        _records.RemoveRange((int)(index - FirstIndex), (int)(NextIndex - index));
    }

    /// <summary>Deletes every record before position <paramref name="index"/> (compaction after a snapshot).</summary>
    public void RemoveBefore(long index)
    {
        if (index <= FirstIndex) return;
        if (index > NextIndex) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} beyond NextIndex {NextIndex}");
        _owner.OnWrite(0);
        _records.RemoveRange(0, (int)(index - FirstIndex));
        FirstIndex = index;
    }

    /// <summary>
    /// Deletes every record; the next appended record gets position <paramref name="nextIndex"/>, which may lie past the
    /// end (a Raft snapshot installed beyond the log's last entry).
    /// </summary>
    public void Reset(long nextIndex)
    {
        if (nextIndex < FirstIndex) throw new ArgumentOutOfRangeException(nameof(nextIndex), $"index {nextIndex} below FirstIndex {FirstIndex}");
        _owner.OnWrite(0);
        _records.Clear();
        FirstIndex = nextIndex;
    }

    /// <summary>Records from <paramref name="fromIndex"/> to the end, copied.</summary>
    public IReadOnlyList<T> ReadFrom(long fromIndex)
    {
        var start = Math.Max(fromIndex, FirstIndex);
        return start >= NextIndex ? [] : _records.GetRange((int)(start - FirstIndex), (int)(NextIndex - start));
    }

    public IReadOnlyList<T> ReadAll() => _records.ToArray();
}

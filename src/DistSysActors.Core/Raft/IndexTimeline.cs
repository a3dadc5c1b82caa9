namespace DistSysActors.Core.Raft;

/// <summary>
/// When a growing log position (the leader's last index, a node's commit index) reached each value, sampled at most
/// once per clock reading into a fixed ring: recording costs no allocation, so it can sit on the write path. Lag is
/// read off it: a follower whose log ends at m misses the entries from m + 1, which this leader held since
/// <see cref="ReachedAtMs"/>(m + 1) (PostgreSQL's write and replay lag measure the same age, from WAL timestamps).
/// </summary>
/// <remarks>
/// A sample (index, ms) says: every position up to index existed by ms. So <see cref="ReachedAtMs"/> answers the earliest
/// sample covering a position: no earlier than the true time, the lag read from it at most one sample too small. Once
/// the ring is full the oldest sample folds into a floor (everything up to its index existed by its time).
/// </remarks>
internal sealed class IndexTimeline
{
    private readonly long[] _index;
    private readonly long[] _ms;
    private int _start;
    private int _count;
    // Everything up to _floorIndex existed by _floorMs (samples evicted from the ring, or the state at Reset).
    private long _floorIndex;
    private long _floorMs;

    public IndexTimeline(int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "must be at least 1");
        _index = new long[capacity];
        _ms = new long[capacity];
    }

    /// <summary>Forgets every sample: positions up to <paramref name="index"/> count as reached at <paramref name="nowMs"/>.</summary>
    public void Reset(long index, long nowMs)
    {
        _start = 0;
        _count = 0;
        _floorIndex = index;
        _floorMs = nowMs;
    }

    /// <summary>The position is <paramref name="index"/> at <paramref name="nowMs"/> (a position that went back is ignored).</summary>
    public void Record(long index, long nowMs)
    {
        if (_count == 0)
        {
            if (index <= _floorIndex) return;
        }
        else
        {
            var last = Slot(_count - 1);
            if (index <= _index[last]) return;
            if (nowMs <= _ms[last])
            {
                _index[last] = index; // same clock reading: one sample per reading
                return;
            }
        }
        if (_count == _index.Length)
        {
            _floorIndex = _index[_start];
            _floorMs = _ms[_start];
            _start = (_start + 1) % _index.Length;
            _count--;
        }
        var slot = Slot(_count++);
        _index[slot] = index;
        _ms[slot] = nowMs;
    }

    /// <summary>The highest position recorded (or the floor).</summary>
    public long Latest => _count == 0 ? _floorIndex : _index[Slot(_count - 1)];

    /// <summary>When the position first reached <paramref name="index"/>; null if it has not (yet).</summary>
    public long? ReachedAtMs(long index)
    {
        if (index <= _floorIndex) return _floorMs;
        // Binary search for the first sample whose index covers the position.
        int lo = 0, hi = _count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_index[Slot(mid)] >= index) { found = mid; hi = mid - 1; }
            else lo = mid + 1;
        }
        return found < 0 ? null : _ms[Slot(found)];
    }

    /// <summary>The highest position reached by <paramref name="ms"/> (the floor's, or 0 before it).</summary>
    public long ReachedBy(long ms)
    {
        int lo = 0, hi = _count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_ms[Slot(mid)] <= ms) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found >= 0) return _index[Slot(found)];
        return _floorMs <= ms ? _floorIndex : 0;
    }

    private int Slot(int i) => (_start + i) % _index.Length;
}

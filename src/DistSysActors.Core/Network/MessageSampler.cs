namespace DistSysActors.Core.Network;

/// <summary>What the network did with one sent message.</summary>
public enum MessageOutcome { Sent, Delayed, Duplicated, Dropped, Partitioned }

/// <summary>
/// One sampled message: <paramref name="Seq"/> numbers the samples of one node, <paramref name="AtMs"/> is the caller's
/// time base, <paramref name="Kind"/> the payload's type name, and <paramref name="Count"/> how many messages of this
/// kind on this link it stands for (itself and those skipped since the previous sample of the kind).
/// </summary>
public sealed record MessageSample(long Seq, long AtMs, NodeId From, NodeId To, string Service, string Kind, MessageOutcome Outcome, int Count);

/// <summary>
/// A small ring of recent messages for watching a protocol (the dashboard's timeline). Sampled so heartbeats do not
/// drown an election: per link and kind at most one sample every <see cref="IntervalMs"/>; a rare message (a vote
/// request, a prepare) is always kept, and any message a fault changed (dropped, delayed, ...) is kept too.
/// Pure and single-threaded; time enters as <c>nowMs</c>.
/// </summary>
public sealed class MessageSampler(int capacity = MessageSampler.CapacityDefault, long intervalMs = MessageSampler.IntervalMsDefault)
{
    public const int CapacityDefault = 256;
    public const long IntervalMsDefault = 1000;

    /// <summary>Bound on the per-kind table; past it the table restarts (a burst of new kinds only loses thinning).</summary>
    public const int KindsMax = 1024;

    private readonly MessageSample?[] _ring = new MessageSample?[Math.Max(1, capacity)];
    private readonly Dictionary<(NodeId To, string Service, string Kind), (long LastMs, int Skipped)> _kinds = new();
    private long _seq;

    public long IntervalMs { get; } = intervalMs;
    public int Capacity => _ring.Length;

    /// <summary>The sequence number of the newest sample (0: none yet).</summary>
    public long LastSeq => _seq;

    /// <summary>Offers one sent message; returns whether it was kept as a sample.</summary>
    public bool Offer(long nowMs, NodeId from, NodeId to, string service, string kind, MessageOutcome outcome)
    {
        var key = (to, service, kind);
        if (_kinds.TryGetValue(key, out var seen) && outcome == MessageOutcome.Sent && nowMs - seen.LastMs < IntervalMs)
        {
            _kinds[key] = (seen.LastMs, seen.Skipped + 1);
            return false;
        }
        if (_kinds.Count >= KindsMax && !_kinds.ContainsKey(key)) _kinds.Clear();
        var count = 1 + (_kinds.TryGetValue(key, out var s) ? s.Skipped : 0);
        _kinds[key] = (nowMs, 0);
        _seq++;
        _ring[_seq % _ring.Length] = new MessageSample(_seq, nowMs, from, to, service, kind, outcome, count);
        return true;
    }

    /// <summary>The samples still held with a sequence number above <paramref name="afterSeq"/>, oldest first.</summary>
    public IReadOnlyList<MessageSample> Since(long afterSeq)
    {
        var first = Math.Max(afterSeq + 1, _seq - _ring.Length + 1);
        var result = new List<MessageSample>((int)Math.Max(0, _seq - first + 1));
        for (var seq = Math.Max(1, first); seq <= _seq; seq++)
            if (_ring[seq % _ring.Length] is { } sample && sample.Seq == seq) result.Add(sample);
        return result;
    }
}

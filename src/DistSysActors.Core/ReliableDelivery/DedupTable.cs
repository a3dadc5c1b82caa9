namespace DistSysActors.Core.ReliableDelivery;

/// <summary>How the receiver treats one incoming copy of a message.</summary>
public enum DedupVerdict
{
    /// <summary>Never processed: record it (durably, with its effect), then acknowledge.</summary>
    New,
    /// <summary>Already processed: do not apply again, but acknowledge, since the sender is still waiting.</summary>
    Duplicate,
    /// <summary>Too far above the high-water mark to remember: neither apply nor acknowledge; the sender redelivers it later.</summary>
    BeyondWindow,
    /// <summary>A sender the table has no room for: neither apply nor acknowledge.</summary>
    TooManySenders,
    /// <summary>A sequence number below 1: never sent by a correct outbox; ignored.</summary>
    Invalid,
}

/// <summary>
/// The receiver's bounded record of processed messages, per sender: a high-water mark H (every sequence number
/// up to H is processed) and the set of processed numbers above H. Eviction rule: a number leaves the set as soon
/// as everything below it is processed (it folds into H), so nothing is ever forgotten; to keep the set bounded,
/// a number above H + <c>WindowMax</c> is refused without an acknowledgement and redelivered by the sender once
/// the gap below it has filled. Memory is therefore at most <c>SendersMax</c> x (1 + <c>WindowMax</c>) numbers.
/// </summary>
/// <remarks>
/// Correct as long as the sender numbers its messages to this receiver 1, 2, 3, ... without gaps and never
/// reuses a number (its outbox is durable): the TCP-style cumulative window of RFC 793 section 3.7, kept on disk.
/// </remarks>
public sealed class DedupTable
{
    private readonly SortedDictionary<NodeId, SenderWindow> _senders = new();

    public DedupTable(int windowMax, int sendersMax)
    {
        if (windowMax < 1) throw new ArgumentOutOfRangeException(nameof(windowMax), windowMax, "must be at least 1");
        if (sendersMax < 1) throw new ArgumentOutOfRangeException(nameof(sendersMax), sendersMax, "must be at least 1");
        WindowMax = windowMax;
        SendersMax = sendersMax;
    }

    public int WindowMax { get; }
    public int SendersMax { get; }
    public int SenderCount => _senders.Count;

    /// <summary>Sequence numbers held individually (above the high-water marks), over all senders; at most SendersMax x WindowMax.</summary>
    public int IdsHeld => _senders.Values.Sum(s => s.Above.Count);

    public DedupVerdict Check(NodeId from, long seq)
    {
        if (seq < 1) return DedupVerdict.Invalid;
        if (!_senders.TryGetValue(from, out var window))
            return _senders.Count >= SendersMax ? DedupVerdict.TooManySenders
                : seq > WindowMax ? DedupVerdict.BeyondWindow : DedupVerdict.New;
        if (seq <= window.HighWaterSeq || window.Above.Contains(seq)) return DedupVerdict.Duplicate;
        return seq - window.HighWaterSeq > WindowMax ? DedupVerdict.BeyondWindow : DedupVerdict.New;
    }

    /// <summary>Records <paramref name="seq"/> from <paramref name="from"/> as processed; idempotent, so journal replay may repeat it.</summary>
    public void Record(NodeId from, long seq)
    {
        if (seq < 1) throw new ArgumentOutOfRangeException(nameof(seq), seq, "sequence numbers start at 1");
        if (!_senders.TryGetValue(from, out var window)) _senders[from] = window = new SenderWindow();
        if (seq <= window.HighWaterSeq) return;
        window.Above.Add(seq);
        while (window.Above.Count > 0 && window.Above.Min == window.HighWaterSeq + 1)
        {
            window.Above.Remove(window.Above.Min);
            window.HighWaterSeq++;
        }
    }

    /// <summary>Every sequence number from <paramref name="from"/> up to this one is processed; 0 if none or unknown.</summary>
    public long HighWaterSeq(NodeId from) => _senders.TryGetValue(from, out var w) ? w.HighWaterSeq : 0;

    public DedupSnapshot ToSnapshot() => new(_senders
        .Select(kv => new DedupSenderRecord(kv.Key.Value, kv.Value.HighWaterSeq, kv.Value.Above.ToArray()))
        .ToArray());

    public static DedupTable FromSnapshot(DedupSnapshot snapshot, int windowMax, int sendersMax)
    {
        var table = new DedupTable(windowMax, sendersMax);
        foreach (var s in snapshot.Senders)
        {
            var window = new SenderWindow { HighWaterSeq = s.HighWaterSeq };
            foreach (var seq in s.Above) window.Above.Add(seq);
            table._senders[new NodeId(s.From)] = window;
        }
        return table;
    }

    /// <summary>Throws if a sender's listed numbers are not all above its high-water mark, or the bounds are exceeded.</summary>
    public void AssertInvariants()
    {
        if (_senders.Count > SendersMax) throw new InvalidOperationException($"{_senders.Count} senders exceed {SendersMax}");
        foreach (var (from, w) in _senders)
        {
            if (w.HighWaterSeq < 0) throw new InvalidOperationException($"sender {from}: negative high-water mark {w.HighWaterSeq}");
            if (w.Above.Count > 0 && w.Above.Min <= w.HighWaterSeq + 1)
                throw new InvalidOperationException($"sender {from}: {w.Above.Min} listed but high-water mark is {w.HighWaterSeq}");
            if (w.Above.Count > 0 && w.Above.Max - w.HighWaterSeq > WindowMax)
                throw new InvalidOperationException($"sender {from}: {w.Above.Max} beyond window {WindowMax} above {w.HighWaterSeq}");
        }
    }

    private sealed class SenderWindow
    {
        public long HighWaterSeq;
        public readonly SortedSet<long> Above = new();
    }
}

using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.ReliableDelivery;

/// <summary>Limits of an <see cref="Outbox"/>.</summary>
/// <param name="RedeliverIntervalMs">Wait after a send before the same message is sent again if still unconfirmed.</param>
/// <param name="PendingMax">Unconfirmed messages held at once; beyond it offers are refused (back-pressure, never loss).</param>
/// <param name="RedeliverBurstMax">Copies sent per <see cref="Outbox.Tick"/> at most, lowest sequence numbers first.</param>
/// <param name="ConfirmedKeysMax">Keys of confirmed messages remembered to refuse a repeated offer; the oldest is forgotten beyond it.</param>
/// <param name="KeyLengthMax">Longest key accepted, in characters.</param>
public sealed record OutboxLimits(long RedeliverIntervalMs, int PendingMax, int RedeliverBurstMax, int ConfirmedKeysMax, int KeyLengthMax = 255)
{
    public static readonly OutboxLimits Default = new(RedeliverIntervalMs: 200, PendingMax: 10_000, RedeliverBurstMax: 1_000, ConfirmedKeysMax: 10_000);
}

/// <summary>The answer to <see cref="Outbox.Offer"/>.</summary>
public abstract record OfferResult
{
    /// <summary>Persist <paramref name="Event"/>, then <see cref="Outbox.Apply"/> it; the message is then sent on the next tick.</summary>
    public sealed record Accepted(DeliveryAccepted Event) : OfferResult;
    /// <summary>The key is pending or among the recently confirmed: nothing to do, the first offer's delivery stands.</summary>
    public sealed record Duplicate(string Key, bool Confirmed) : OfferResult;
    /// <summary>PendingMax unconfirmed messages already: offer again later.</summary>
    public sealed record Full(int PendingMax) : OfferResult;
    public sealed record Invalid(string Reason) : OfferResult;
}

/// <summary>
/// The sender side of at-least-once delivery, without I/O or clock: each accepted message gets the next sequence
/// number towards its destination and is sent, then resent every RedeliverIntervalMs, until the receiver
/// acknowledges it. Keys let an application retry an offer safely: an offer whose key is pending or recently
/// confirmed is not delivered again. Driven as a protocol core: <see cref="Accept"/> for a local offer,
/// <see cref="Step"/> for acknowledgements, <see cref="Tick"/> for redelivery; each Ready persists the
/// <see cref="OutboxEvent"/>s before the envelopes that depend on them leave (so nothing is sent that a crash could
/// forget), then answers the offer (<see cref="OfferAnswer"/>) or announces the confirmation (<see cref="DeliveryDone"/>).
/// Recovery replays the journal through <see cref="Apply"/>.
/// </summary>
public sealed class Outbox : IProtocolCore<DeliveryMessage, ProtocolReady<DeliveryMessage>>
{
    private readonly SortedDictionary<(NodeId To, long Seq), Pending> _pending = new();
    private readonly Dictionary<string, (NodeId To, long Seq)> _pendingByKey = new(StringComparer.Ordinal);
    private readonly Queue<string> _confirmedKeys = new();
    private readonly HashSet<string> _confirmedKeySet = new(StringComparer.Ordinal);
    private readonly SortedDictionary<NodeId, long> _lastSeq = new();
    private readonly ReadyBuffer<DeliveryMessage> _ready = new();

    public Outbox(NodeId self, OutboxLimits limits)
    {
        if (limits.RedeliverIntervalMs < 1 || limits.PendingMax < 1 || limits.RedeliverBurstMax < 1 || limits.ConfirmedKeysMax < 0 || limits.KeyLengthMax < 1)
            throw new ArgumentOutOfRangeException(nameof(limits), limits, "limits must be positive");
        Self = self;
        Limits = limits;
    }

    public NodeId Self { get; }
    public OutboxLimits Limits { get; }
    public int PendingCount => _pending.Count;
    public long SentCount { get; private set; }
    public long RedeliveredCount { get; private set; }
    public long ConfirmedCount { get; private set; }

    /// <summary>The last sequence number used towards <paramref name="to"/>; 0 before the first message.</summary>
    public long LastSeq(NodeId to) => _lastSeq.GetValueOrDefault(to);

    /// <summary>Decides whether to deliver <paramref name="payload"/> to <paramref name="to"/> under <paramref name="key"/>; changes nothing.</summary>
    /// <remarks>Apply an accepted event before the next offer: the sequence number is LastSeq + 1 until then.</remarks>
    public OfferResult Offer(NodeId to, string key, object payload)
    {
        if (string.IsNullOrEmpty(key) || key.Length > Limits.KeyLengthMax)
            return new OfferResult.Invalid($"key must be 1 to {Limits.KeyLengthMax} characters");
        if (to == Self) return new OfferResult.Invalid("a node does not deliver to itself through the outbox");
        if (_pendingByKey.ContainsKey(key)) return new OfferResult.Duplicate(key, Confirmed: false);
        if (_confirmedKeySet.Contains(key)) return new OfferResult.Duplicate(key, Confirmed: true);
        if (_pending.Count >= Limits.PendingMax) return new OfferResult.Full(Limits.PendingMax);
        return new OfferResult.Accepted(new DeliveryAccepted(to, LastSeq(to) + 1, key, payload));
    }

    /// <summary>The event to persist for an acknowledgement, or null if the message is not pending (a duplicate or stale ack).</summary>
    public DeliveryConfirmed? Confirm(DeliveryAck ack) =>
        _pending.ContainsKey((ack.From, ack.Seq)) ? new DeliveryConfirmed(ack.From, ack.Seq) : null;

    /// <summary>Applies a persisted event, live or during recovery. Recovered messages are due at once.</summary>
    public void Apply(OutboxEvent e)
    {
        switch (e)
        {
            case DeliveryAccepted a:
                if (a.Seq <= LastSeq(a.To))
                    throw new InvalidOperationException($"sequence {a.Seq} to {a.To} is not above the last one, {LastSeq(a.To)}");
                _lastSeq[a.To] = a.Seq;
                _pending[(a.To, a.Seq)] = new Pending(a, Attempts: 0, NextAttemptAtMs: long.MinValue);
                _pendingByKey[a.Key] = (a.To, a.Seq);
                break;
            case DeliveryConfirmed c:
                if (!_pending.Remove((c.To, c.Seq), out var done)) return;
                _pendingByKey.Remove(done.Message.Key);
                ConfirmedCount++;
                RememberConfirmedKey(done.Message.Key);
                break;
            default:
                throw new ArgumentException($"unknown outbox event {e.GetType().Name}", nameof(e));
        }
    }

    /// <summary>Queues every pending message that is due at <paramref name="nowMs"/> (at most RedeliverBurstMax, lowest sequence first).</summary>
    public void Tick(long nowMs)
    {
        List<((NodeId, long) Id, Pending P)>? due = null;
        foreach (var (id, p) in _pending)
        {
            if (p.NextAttemptAtMs > nowMs) continue;
            (due ??= new()).Add((id, p));
            if (due.Count >= Limits.RedeliverBurstMax) break;
        }
        if (due is null) return;
        foreach (var (id, p) in due)
        {
            var attempt = p.Attempts + 1;
            _pending[id] = p with { Attempts = attempt, NextAttemptAtMs = nowMs + Limits.RedeliverIntervalMs };
            _ready.Send(p.Message.To, new DeliveryEnvelope(Self, p.Message.Seq, p.Message.Key, p.Message.Payload, attempt));
            SentCount++;
            if (attempt > 1) RedeliveredCount++;
        }
    }

    /// <summary>
    /// A local offer, answered with <see cref="OfferAnswer"/> under <paramref name="requestId"/>. An accepted message is
    /// applied at once and its event persisted in this Ready; its first copy leaves after that write.
    /// </summary>
    public void Accept(long requestId, NodeId to, string key, object payload, long nowMs)
    {
        var result = Offer(to, key, payload);
        if (result is OfferResult.Accepted accepted)
        {
            Apply(accepted.Event);
            _ready.Persist(accepted.Event);
        }
        _ready.Answer(new OfferAnswer(requestId, result));
        if (result is OfferResult.Accepted) Tick(nowMs);
    }

    /// <summary>An acknowledgement confirms its pending message: applied at once, persisted in this Ready, announced as <see cref="DeliveryDone"/>.</summary>
    public void Step(DeliveryMessage message, long nowMs)
    {
        if (message is not DeliveryAck ack || Confirm(ack) is not { } confirmed) return;
        var key = PendingMessage(confirmed.To, confirmed.Seq)!.Key;
        Apply(confirmed);
        _ready.Persist(confirmed);
        _ready.Answer(new DeliveryDone(confirmed.To, confirmed.Seq, key));
    }

    public bool HasReady => _ready.HasReady;

    /// <summary>Envelopes to send after this Ready's events are durable, in order.</summary>
    public ProtocolReady<DeliveryMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<DeliveryMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants()
    {
        var violations = new List<string>();
        if (_pending.Count != _pendingByKey.Count) violations.Add($"{_pending.Count} pending messages but {_pendingByKey.Count} pending keys");
        if (_pending.Count > Limits.PendingMax) violations.Add($"{_pending.Count} pending messages exceed {Limits.PendingMax}");
        foreach (var ((to, seq), p) in _pending)
        {
            if (seq > LastSeq(to)) violations.Add($"pending {seq} to {to} is above the last sequence number {LastSeq(to)}");
            if (!_pendingByKey.TryGetValue(p.Message.Key, out var id) || id != (to, seq)) violations.Add($"pending {seq} to {to} is not found by its key");
        }
        if (_confirmedKeys.Count > Limits.ConfirmedKeysMax) violations.Add($"{_confirmedKeys.Count} confirmed keys exceed {Limits.ConfirmedKeysMax}");
        return violations;
    }

    /// <summary>The earliest time a pending message is due, or null when nothing is pending.</summary>
    public long? NextDueAtMs => _pending.Count == 0 ? null : _pending.Values.Min(p => p.NextAttemptAtMs);

    /// <summary>The highest attempt count among pending messages (0 if none): how hard the link is to cross.</summary>
    public int MaxAttempts => _pending.Count == 0 ? 0 : _pending.Values.Max(p => p.Attempts);

    /// <summary>The pending message <paramref name="seq"/> to <paramref name="to"/>, or null.</summary>
    public DeliveryAccepted? PendingMessage(NodeId to, long seq) => _pending.TryGetValue((to, seq), out var p) ? p.Message : null;

    public IEnumerable<DeliveryAccepted> PendingMessages => _pending.Values.Select(p => p.Message);

    public OutboxSnapshot ToSnapshot() => new(
        _lastSeq.Select(kv => new OutboxSeqRecord(kv.Key.Value, kv.Value)).ToArray(),
        _pending.Values.Select(p => p.Message).ToArray(),
        _confirmedKeys.ToArray());

    public static Outbox FromSnapshot(NodeId self, OutboxLimits limits, OutboxSnapshot snapshot)
    {
        var outbox = new Outbox(self, limits);
        foreach (var key in snapshot.ConfirmedKeys) outbox.RememberConfirmedKey(key);
        foreach (var m in snapshot.Pending)
        {
            outbox._pending[(m.To, m.Seq)] = new Pending(m, 0, long.MinValue);
            outbox._pendingByKey[m.Key] = (m.To, m.Seq);
        }
        foreach (var s in snapshot.LastSeqs) outbox._lastSeq[new NodeId(s.To)] = s.LastSeq;
        return outbox;
    }

    private void RememberConfirmedKey(string key)
    {
        if (Limits.ConfirmedKeysMax == 0 || !_confirmedKeySet.Add(key)) return;
        _confirmedKeys.Enqueue(key);
        while (_confirmedKeys.Count > Limits.ConfirmedKeysMax) _confirmedKeySet.Remove(_confirmedKeys.Dequeue());
    }

    private sealed record Pending(DeliveryAccepted Message, int Attempts, long NextAttemptAtMs);
}

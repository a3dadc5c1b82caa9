using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Clocks;

/// <summary>
/// One NTP on-wire exchange, named as in RFC 5905 section 8: <see cref="T1Ms"/> origin (client sends),
/// <see cref="T2Ms"/> receive (server receives), <see cref="T3Ms"/> transmit (server replies),
/// <see cref="T4Ms"/> destination (client receives). T1 and T4 are on the client's clock, T2 and T3 on the server's.
/// </summary>
public readonly record struct NtpSample(long T1Ms, long T2Ms, long T3Ms, long T4Ms)
{
    /// <summary>θ = ((T2 − T1) + (T3 − T4)) / 2: the server's clock minus the client's. Off by half the path asymmetry.</summary>
    public double OffsetMs => ((T2Ms - T1Ms) + (double)(T3Ms - T4Ms)) / 2.0;

    /// <summary>δ = (T4 − T1) − (T3 − T2): the round trip without the server's processing time.</summary>
    public long DelayMs => (T4Ms - T1Ms) - (T3Ms - T2Ms);

    /// <summary>The true offset lies within θ ± δ/2, whatever the split of the delay between the two directions.</summary>
    public double ErrorBoundMs => Math.Max(DelayMs, 0) / 2.0;
}

/// <summary>
/// NTP's clock filter (RFC 5905, section 10): keeps the last <see cref="SamplesMax"/> samples and
/// picks the one with the least delay, whose offset error bound (δ/2) is the tightest.
/// </summary>
public sealed class NtpClockFilter
{
    public const int DefaultSamplesMax = 8;
    private readonly Queue<(long Sequence, NtpSample Sample)> _samples = new();
    private long _added;

    public NtpClockFilter(int samplesMax = DefaultSamplesMax)
    {
        if (samplesMax is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(samplesMax), samplesMax, "samplesMax must be within 1..1024");
        SamplesMax = samplesMax;
    }

    public int SamplesMax { get; }

    public int Count => _samples.Count;

    /// <summary>The samples kept, oldest first.</summary>
    public IReadOnlyList<NtpSample> Samples => _samples.Select(s => s.Sample).ToArray();

    /// <summary>Adds a sample, forgetting the oldest once <see cref="SamplesMax"/> are kept.</summary>
    public void Add(NtpSample sample)
    {
        if (_samples.Count == SamplesMax) _samples.Dequeue();
        _samples.Enqueue((++_added, sample));
    }

    /// <summary>The minimum-delay sample kept (the newest of equals), or null when empty.</summary>
    public NtpSample? Best => BestWithSequence?.Sample;

    /// <summary>
    /// The best sample with its arrival number (1 for the first sample ever added, never reused, not reset
    /// by <see cref="Clear"/>), so a caller can tell a newer best from one already used even if clocks jump.
    /// </summary>
    public (long Sequence, NtpSample Sample)? BestWithSequence
    {
        get
        {
            (long Sequence, NtpSample Sample)? best = null;
            foreach (var s in _samples)
                if (best is null || s.Sample.DelayMs <= best.Value.Sample.DelayMs) best = s;
            return best;
        }
    }

    public void Clear() => _samples.Clear();
}

/// <summary>Messages of the NTP-style client/server exchange.</summary>
public abstract record NtpMessage(NodeId From) : ClockMessage(From);

/// <summary>Client to server; <paramref name="T1Ms"/> is the client's origin timestamp.</summary>
public sealed record NtpRequest(NodeId From, long RequestId, long T1Ms) : NtpMessage(From);

/// <summary>Server to client; echoes <paramref name="T1Ms"/> so the client can match it (RFC 5905's origin check) and adds its receive and transmit times.</summary>
public sealed record NtpResponse(NodeId From, long RequestId, long T1Ms, long T2Ms, long T3Ms) : NtpMessage(From);

/// <summary>The server side is stateless: it stamps receive and transmit times from its own clock.</summary>
public static class NtpServer
{
    /// <summary>The reply to <paramref name="request"/>, received at <paramref name="receiveMs"/> and sent at <paramref name="transmitMs"/> on the server's clock.</summary>
    public static Outgoing<NtpMessage> Respond(NodeId self, NtpRequest request, long receiveMs, long transmitMs) =>
        new(request.From, new NtpResponse(self, request.RequestId, request.T1Ms, receiveMs, transmitMs));
}

/// <summary>Settings of an <see cref="NtpClient"/>.</summary>
public sealed record NtpClientSettings
{
    /// <summary>Time between requests to the server.</summary>
    public long PollIntervalMs { get; init; } = 1_000;

    /// <summary>A request unanswered for this long is abandoned (the next poll sends a fresh one).</summary>
    public long RequestTimeoutMs { get; init; } = 2_000;

    /// <summary>Samples with a larger round-trip delay are discarded as useless.</summary>
    public long DelayMsMax { get; init; } = 10_000;

    public int FilterSamplesMax { get; init; } = NtpClockFilter.DefaultSamplesMax;

    /// <summary>How many samples in a row must disagree with the offset in use by more than the step threshold before they are believed.</summary>
    public int StepOutSamples { get; init; } = 3;

    /// <summary>The client reports itself synced once a sample was used and the remaining correction is within this.</summary>
    public double SyncedToleranceMs { get; init; } = 5;

    public ClockDisciplineSettings Discipline { get; init; } = new();

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (PollIntervalMs is < 1 or > 86_400_000) errors.Add($"pollIntervalMs must be within 1..86400000, was {PollIntervalMs}");
        if (RequestTimeoutMs < 1) errors.Add($"requestTimeoutMs must be positive, was {RequestTimeoutMs}");
        if (DelayMsMax < 0) errors.Add($"delayMsMax must not be negative, was {DelayMsMax}");
        if (FilterSamplesMax is < 1 or > 1024) errors.Add($"filterSamplesMax must be within 1..1024, was {FilterSamplesMax}");
        if (StepOutSamples is < 1 or > 64) errors.Add($"stepOutSamples must be within 1..64, was {StepOutSamples}");
        if (!(SyncedToleranceMs >= 0)) errors.Add($"syncedToleranceMs must not be negative, was {SyncedToleranceMs}");
        errors.AddRange(Discipline.Validate().Select(e => "discipline." + e));
        return errors;
    }
}

/// <summary>What an <see cref="NtpClient"/> knows, for <c>/status</c>.</summary>
/// <param name="OffsetMs">Estimated disciplined local clock minus the reference (what is still to correct).</param>
/// <param name="RawOffsetMs">Estimated raw local clock minus the reference (the skew the correction removes).</param>
/// <param name="DelayMs">Round-trip delay of the sample in use.</param>
/// <param name="ErrorBoundMs">Half that delay: the estimate's worst-case error.</param>
public sealed record NtpStatus(
    NodeId ReferenceNodeId, bool Synced, double? OffsetMs, double? RawOffsetMs, long? DelayMs, double? ErrorBoundMs,
    double CorrectionMs, long SamplesUsed, long StepCount, long ResponsesDiscarded);

/// <summary>
/// An NTP-style client core: polls one reference node, keeps a clock filter of the last samples and
/// steers a <see cref="DisciplinedClock"/> to the minimum-delay sample. Pure and single-threaded; the host
/// passes the node's raw physical clock reading and executes what <see cref="TakeReady"/> returns: requests to the
/// server, answers to requests it receives (from its disciplined clock), and each adjustment as an answer.
/// </summary>
/// <remarks>
/// T1 and T4 come from the raw clock, not the disciplined one, so each sample measures reference minus
/// raw and stays valid while the correction slews; the correction is simply steered to the best sample's offset.
/// </remarks>
public sealed class NtpClient : IProtocolCore<NtpMessage, ProtocolReady<NtpMessage>>
{
    private readonly NtpClockFilter _filter;
    private readonly ReadyBuffer<NtpMessage> _ready = new();
    private (long RequestId, long T1Ms)? _pending;
    private long _nextRequestId = 1;
    private long _nextPollMs = long.MinValue;
    private long? _lastPollMs;
    private NtpSample? _used;
    private long _usedSequence;
    private readonly List<NtpSample> _suspects = [];
    private long _samplesUsed, _discarded;

    public NtpClient(NodeId self, NodeId server, NtpClientSettings? settings = null)
    {
        Settings = settings ?? new NtpClientSettings();
        var errors = Settings.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(settings));
        Self = self;
        Server = server;
        _filter = new NtpClockFilter(Settings.FilterSamplesMax);
        Clock = new DisciplinedClock(Settings.Discipline);
    }

    public NodeId Self { get; }
    public NodeId Server { get; }
    public NtpClientSettings Settings { get; }

    /// <summary>The node's disciplined clock: read it with the raw time to get synchronized time.</summary>
    public DisciplinedClock Clock { get; }

    public NtpClockFilter Filter => _filter;

    /// <summary>Synchronized time at raw time <paramref name="rawNowMs"/>.</summary>
    public long ReadMs(long rawNowMs) => Clock.ReadMs(rawNowMs);

    /// <summary>Call periodically with the raw clock; sends a request when a poll is due.</summary>
    public void Tick(long rawNowMs)
    {
        if (_pending is { } p && rawNowMs - p.T1Ms >= Settings.RequestTimeoutMs) _pending = null;
        // A raw clock set back behind the last poll would otherwise silence the client for as long as the jump.
        if (_lastPollMs is { } last && rawNowMs < last) _nextPollMs = rawNowMs;
        if (_nextPollMs != long.MinValue && rawNowMs < _nextPollMs) return;
        _lastPollMs = rawNowMs;
        _nextPollMs = rawNowMs + Settings.PollIntervalMs;
        var id = _nextRequestId++;
        _pending = (id, rawNowMs);
        _ready.Send(Server, new NtpRequest(Self, id, rawNowMs));
    }

    /// <summary>
    /// A response arrived at raw time <paramref name="rawNowMs"/> (T4). Responses that do not answer the
    /// outstanding request (late, duplicated, forged) or whose delay is out of range are discarded.
    /// Returns the adjustment made, if the filter's best sample changed.
    /// </summary>
    public ClockAdjustment? Handle(NtpResponse response, long rawNowMs)
    {
        if (response.From != Server || _pending is not { } p || p.RequestId != response.RequestId || p.T1Ms != response.T1Ms || rawNowMs < p.T1Ms)
        {
            _discarded++;
            return null;
        }
        _pending = null;
        var sample = new NtpSample(response.T1Ms, response.T2Ms, response.T3Ms, rawNowMs);
        if (sample.DelayMs > Settings.DelayMsMax)
        {
            _discarded++;
            return null;
        }
        // Popcorn spike suppression (RFC 5905, section 10): an offset far from the one in use is held back until
        // StepOutSamples in a row agree; then the clock really jumped, and the older samples are stale.
        if (_used is { } inUse && Math.Abs(sample.OffsetMs - inUse.OffsetMs) > Settings.Discipline.StepThresholdMs)
        {
            _suspects.Add(sample);
            if (_suspects.Count < Settings.StepOutSamples) return null;
            _filter.Clear();
            foreach (var s in _suspects) _filter.Add(s);
            _suspects.Clear();
            _used = null;
        }
        else
        {
            _suspects.Clear();
            _filter.Add(sample);
        }
        // RFC 5905 section 10: a sample is used only if it is newer than the one last used.
        if (_filter.BestWithSequence is not { } candidate || candidate.Sequence <= _usedSequence) return null;
        var best = candidate.Sample;
        _used = best;
        _usedSequence = candidate.Sequence;
        _samplesUsed++;
        var adjustment = Clock.SteerTo(best.OffsetMs, rawNowMs);
        _ready.Answer(adjustment);
        return adjustment;
    }

    /// <summary>A response is handled as by <see cref="Handle"/>; a request is answered from this node's disciplined clock.</summary>
    public void Step(NtpMessage message, long rawNowMs)
    {
        switch (message)
        {
            case NtpResponse response:
                Handle(response, rawNowMs);
                break;
            case NtpRequest request:
                var reply = NtpServer.Respond(Self, request, ReadMs(rawNowMs), ReadMs(rawNowMs));
                _ready.Send(reply.To, reply.Message);
                break;
        }
    }

    public bool HasReady => _ready.HasReady;

    public ProtocolReady<NtpMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<NtpMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants()
    {
        var violations = new List<string>();
        if (_filter.Count > _filter.SamplesMax) violations.Add($"node {Self}: {_filter.Count} samples exceed {_filter.SamplesMax}");
        if (_suspects.Count >= Settings.StepOutSamples) violations.Add($"node {Self}: {_suspects.Count} suspect samples held, step-out is {Settings.StepOutSamples}");
        if (_pending is { } p && p.RequestId >= _nextRequestId) violations.Add($"node {Self}: pending request {p.RequestId} not yet issued");
        return violations;
    }

    public NtpStatus Status(long rawNowMs)
    {
        Clock.ReadMs(rawNowMs);
        var best = _used;
        double? offset = best is { } b ? Clock.CorrectionMs - b.OffsetMs : null;
        var synced = offset is { } o && Math.Abs(o) <= Settings.SyncedToleranceMs;
        return new NtpStatus(Server, synced, offset, best is { } b2 ? -b2.OffsetMs : null, best?.DelayMs, best?.ErrorBoundMs,
            Clock.CorrectionMs, _samplesUsed, Clock.StepCount, _discarded);
    }
}

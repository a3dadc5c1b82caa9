using System.Collections.Immutable;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Clocks;

/// <summary>Messages of the Berkeley algorithm.</summary>
public abstract record BerkeleyMessage(NodeId From) : ClockMessage(From);

/// <summary>Master to member: report your clock for round <paramref name="Round"/>.</summary>
public sealed record BerkeleyPoll(NodeId From, long Round) : BerkeleyMessage(From);

/// <summary>Member to master: the member's clock read <paramref name="ClockMs"/> when it answered.</summary>
public sealed record BerkeleyTimeReport(NodeId From, long Round, long ClockMs) : BerkeleyMessage(From);

/// <summary>Master to member: move your clock by <paramref name="DeltaMs"/> relative to its current reading.</summary>
public sealed record BerkeleyAdjust(NodeId From, long Round, double DeltaMs) : BerkeleyMessage(From);

/// <summary>Settings of a <see cref="BerkeleyMaster"/>.</summary>
public sealed record BerkeleySettings
{
    public const int MembersMax = 1_000;

    /// <summary>Time from the start of one round to the start of the next.</summary>
    public long RoundIntervalMs { get; init; } = 10_000;

    /// <summary>A round closes this long after its polls went out, without the members that have not answered.</summary>
    public long RoundTimeoutMs { get; init; } = 1_000;

    /// <summary>Reports with a longer round trip are ignored: RTT/2 would bound their error too loosely.</summary>
    public long RoundTripMsMax { get; init; } = 500;

    /// <summary>Clocks further than this from the median are outliers: left out of the average, still corrected.</summary>
    public double OutlierDeviationMsMax { get; init; } = 50;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (RoundIntervalMs < 1) errors.Add($"roundIntervalMs must be positive, was {RoundIntervalMs}");
        if (RoundTimeoutMs < 1 || RoundTimeoutMs > RoundIntervalMs) errors.Add($"roundTimeoutMs must be within 1..roundIntervalMs, was {RoundTimeoutMs}");
        if (RoundTripMsMax < 0) errors.Add($"roundTripMsMax must not be negative, was {RoundTripMsMax}");
        if (!(OutlierDeviationMsMax >= 0)) errors.Add($"outlierDeviationMsMax must not be negative, was {OutlierDeviationMsMax}");
        return errors;
    }
}

public enum BerkeleyEstimateKind
{
    /// <summary>Counted in the average.</summary>
    Averaged,
    /// <summary>Too far from the median: left out of the average, but still sent a correction.</summary>
    Outlier,
    /// <summary>Answered, but too slowly to trust: neither averaged nor corrected.</summary>
    TooSlow,
    /// <summary>Did not answer before the round closed.</summary>
    NoReply,
}

/// <summary>The master's view of one clock in one round: <paramref name="OffsetMs"/> is that clock minus the master's.</summary>
public readonly record struct BerkeleyEstimate(NodeId Node, BerkeleyEstimateKind Kind, double? OffsetMs, long? RoundTripMs, double? DeltaMs);

/// <summary>A closed round: the fault-tolerant average offset (relative to the master) and each clock's estimate, in node order.</summary>
public sealed record BerkeleyRound(long Round, double AverageOffsetMs, double MedianOffsetMs, ImmutableArray<BerkeleyEstimate> Estimates);

/// <summary>
/// The Berkeley algorithm's master (Gusella and Zatti 1989): each round it polls every member, estimates
/// each member's clock as reported time + RTT/2, takes a fault-tolerant average of the offsets (its own,
/// zero, included) that discards those further than <see cref="BerkeleySettings.OutlierDeviationMsMax"/>
/// from the median, and sends every clock, its own included, the delta that moves it to that average.
/// The host passes the master node's own (disciplined) clock reading as <c>nowMs</c> and delivers the
/// delta addressed to the master itself to its local <see cref="BerkeleyMember"/>.
/// </summary>
public sealed class BerkeleyMaster : IProtocolCore<BerkeleyMessage, ProtocolReady<BerkeleyMessage>>
{
    private readonly ReadyBuffer<BerkeleyMessage> _ready = new();
    private readonly SortedDictionary<NodeId, (long PolledMs, long? RoundTripMs, double? OffsetMs)> _open = new();
    private long _round;
    private long _roundStartedMs;
    private bool _roundOpen;
    private long _nextRoundMs = long.MinValue;

    public BerkeleyMaster(NodeId self, IEnumerable<NodeId> members, BerkeleySettings? settings = null)
    {
        Settings = settings ?? new BerkeleySettings();
        var errors = Settings.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(settings));
        Self = self;
        Members = members.Where(m => m != self).Distinct().Order().ToImmutableArray();
        if (Members.Length > BerkeleySettings.MembersMax) throw new ArgumentException($"at most {BerkeleySettings.MembersMax} members", nameof(members));
    }

    public NodeId Self { get; }

    /// <summary>The polled members, the master excluded, in node order.</summary>
    public ImmutableArray<NodeId> Members { get; }

    public BerkeleySettings Settings { get; }

    public BerkeleyRound? LastRound { get; private set; }

    /// <summary>Starts a round when one is due, closes an open round at its timeout.</summary>
    public void Tick(long nowMs)
    {
        if (_roundOpen && nowMs - _roundStartedMs >= Settings.RoundTimeoutMs) CloseRound();
        if (_roundOpen || (_nextRoundMs != long.MinValue && nowMs < _nextRoundMs)) return;
        _round++;
        _roundOpen = true;
        _roundStartedMs = nowMs;
        _nextRoundMs = nowMs + Settings.RoundIntervalMs;
        _open.Clear();
        foreach (var member in Members)
        {
            _open[member] = (nowMs, null, null);
            _ready.Send(member, new BerkeleyPoll(Self, _round));
        }
        if (Members.Length == 0) CloseRound();
    }

    /// <summary>A member's report, received at <paramref name="nowMs"/> on the master's clock. Stale or repeated reports are ignored.</summary>
    public void Handle(BerkeleyTimeReport report, long nowMs)
    {
        if (!_roundOpen || report.Round != _round || !_open.TryGetValue(report.From, out var entry) || entry.RoundTripMs is not null) return;
        var rtt = Math.Max(nowMs - entry.PolledMs, 0);
        // The member's clock now reads about ClockMs + RTT/2 (Cristian's estimate); its offset from the master is time-invariant.
        var offset = report.ClockMs + rtt / 2.0 - nowMs;
        _open[report.From] = (entry.PolledMs, rtt, offset);
        if (_open.Values.All(e => e.RoundTripMs is not null)) CloseRound();
    }

    private void CloseRound()
    {
        _roundOpen = false;
        var offsets = new List<double> { 0.0 }; // the master's own clock
        foreach (var (_, e) in _open)
            if (e.OffsetMs is { } o && e.RoundTripMs <= Settings.RoundTripMsMax) offsets.Add(o);
        offsets.Sort();
        var median = offsets.Count % 2 == 1
            ? offsets[offsets.Count / 2]
            : (offsets[offsets.Count / 2 - 1] + offsets[offsets.Count / 2]) / 2.0;
        var kept = offsets.Where(o => Math.Abs(o - median) <= Settings.OutlierDeviationMsMax).ToList();
        // Empty only when an even count splits into two camps further apart than twice the deviation: then no majority exists, so use the median.
        var average = kept.Count > 0 ? kept.Average() : median;
        var estimates = ImmutableArray.CreateBuilder<BerkeleyEstimate>(_open.Count + 1);
        var all = _open.Select(kv => (Node: kv.Key, kv.Value.RoundTripMs, kv.Value.OffsetMs))
            .Append((Node: Self, RoundTripMs: (long?)0, OffsetMs: (double?)0.0))
            .OrderBy(x => x.Node);
        foreach (var (node, rtt, offset) in all)
        {
            if (offset is not { } o) { estimates.Add(new BerkeleyEstimate(node, BerkeleyEstimateKind.NoReply, null, null, null)); continue; }
            if (rtt > Settings.RoundTripMsMax) { estimates.Add(new BerkeleyEstimate(node, BerkeleyEstimateKind.TooSlow, o, rtt, null)); continue; }
            var kind = Math.Abs(o - median) <= Settings.OutlierDeviationMsMax ? BerkeleyEstimateKind.Averaged : BerkeleyEstimateKind.Outlier;
            var delta = average - o;
            estimates.Add(new BerkeleyEstimate(node, kind, o, rtt, delta));
            _ready.Send(node, new BerkeleyAdjust(Self, _round, delta));
        }
        LastRound = new BerkeleyRound(_round, average, median, estimates.ToImmutable());
        _ready.Answer(LastRound);
    }

    /// <summary>Handles a time report as <see cref="Handle"/>; the master's host passes its own member's reading as <paramref name="nowMs"/>.</summary>
    public void Step(BerkeleyMessage message, long nowMs)
    {
        if (message is BerkeleyTimeReport report) Handle(report, nowMs);
    }

    public bool HasReady => _ready.HasReady;

    /// <summary>Polls and deltas to send (the one addressed to the master goes to its own member), and each closed round as an answer.</summary>
    public ProtocolReady<BerkeleyMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<BerkeleyMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants()
    {
        var violations = new List<string>();
        if (_roundOpen && _open.Keys.Any(k => !Members.Contains(k))) violations.Add($"master {Self}: round {_round} polls a non-member");
        if (LastRound is { } r && r.Round > _round) violations.Add($"master {Self}: last round {r.Round} is after the current {_round}");
        return violations;
    }
}

/// <summary>
/// A Berkeley member's core, on every node including the master's: answers polls with its disciplined
/// clock and applies the master's deltas. A backward delta is always slewed (the clock runs slow), never
/// stepped, so the clock never reads backwards.
/// </summary>
public sealed class BerkeleyMember : IProtocolCore<BerkeleyMessage, ProtocolReady<BerkeleyMessage>>
{
    private readonly ReadyBuffer<BerkeleyMessage> _ready = new();
    private (NodeId Master, long Round)? _answered;
    private long _lastOwnRound;

    public BerkeleyMember(NodeId self, ClockDisciplineSettings? discipline = null)
    {
        Self = self;
        Clock = new DisciplinedClock((discipline ?? new ClockDisciplineSettings()) with { StepBackwardAllowed = false });
    }

    public NodeId Self { get; }

    public DisciplinedClock Clock { get; }

    public long ReadMs(long rawNowMs) => Clock.ReadMs(rawNowMs);

    public void Handle(BerkeleyPoll poll, long rawNowMs)
    {
        _answered = (poll.From, poll.Round);
        _ready.Send(poll.From, new BerkeleyTimeReport(Self, poll.Round, Clock.ReadMs(rawNowMs)));
    }

    /// <summary>
    /// Applies the master's delta. A delta is relative to the reading this member reported, so only the
    /// answer to the latest poll counts, once; the master's own delta (from itself) needs no poll.
    /// </summary>
    public ClockAdjustment? Handle(BerkeleyAdjust adjust, long rawNowMs)
    {
        if (adjust.From == Self)
        {
            if (adjust.Round <= _lastOwnRound) return null;
            _lastOwnRound = adjust.Round;
        }
        else
        {
            if (_answered != (adjust.From, adjust.Round)) return null;
            _answered = null;
        }
        var adjustment = Clock.Adjust(adjust.DeltaMs, rawNowMs);
        _ready.Answer(new BerkeleyAdjusted(adjust.Round, adjust.DeltaMs, adjustment));
        return adjustment;
    }

    /// <summary>Answers a poll or applies a delta, as the two <c>Handle</c> overloads.</summary>
    public void Step(BerkeleyMessage message, long rawNowMs)
    {
        switch (message)
        {
            case BerkeleyPoll poll: Handle(poll, rawNowMs); break;
            case BerkeleyAdjust adjust: Handle(adjust, rawNowMs); break;
        }
    }

    /// <summary>A member has no timer of its own: it only answers.</summary>
    public void Tick(long rawNowMs) { }

    public bool HasReady => _ready.HasReady;

    /// <summary>Time reports to send, and each adjustment made as an answer (<see cref="BerkeleyAdjusted"/>).</summary>
    public ProtocolReady<BerkeleyMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<BerkeleyMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants() =>
        Clock.Settings.StepBackwardAllowed ? [$"member {Self}: its clock may step backwards"] : [];
}

/// <summary>Announced by a <see cref="BerkeleyMember"/> when it applied the master's delta of <paramref name="Round"/>.</summary>
public sealed record BerkeleyAdjusted(long Round, double DeltaMs, ClockAdjustment Adjustment);

/// <summary>
/// One node of the Berkeley algorithm as a single core: its <see cref="BerkeleyMember"/> and, on the master node, the
/// <see cref="BerkeleyMaster"/>, fed its own member's reading. The delta the master addresses to its own node goes
/// straight to the member; everything else is sent. <c>nowMs</c> is the node's raw clock.
/// </summary>
public sealed class BerkeleyNode : IProtocolCore<BerkeleyMessage, ProtocolReady<BerkeleyMessage>>
{
    private readonly ReadyBuffer<BerkeleyMessage> _ready = new();

    public BerkeleyNode(BerkeleyMember member, BerkeleyMaster? master = null)
    {
        if (master is not null && master.Self != member.Self) throw new ArgumentException($"master {master.Self} and member {member.Self} must be the same node", nameof(master));
        Member = member;
        Master = master;
    }

    public NodeId Self => Member.Self;
    public BerkeleyMember Member { get; }
    public BerkeleyMaster? Master { get; }

    public long ReadMs(long rawNowMs) => Member.ReadMs(rawNowMs);

    public void Step(BerkeleyMessage message, long rawNowMs)
    {
        if (message is BerkeleyTimeReport) Master?.Step(message, Member.ReadMs(rawNowMs));
        else Member.Step(message, rawNowMs);
        Collect(rawNowMs);
    }

    public void Tick(long rawNowMs)
    {
        Master?.Tick(Member.ReadMs(rawNowMs));
        Collect(rawNowMs);
    }

    public bool HasReady => _ready.HasReady;

    public ProtocolReady<BerkeleyMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<BerkeleyMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants() => [.. Member.CheckInvariants(), .. Master?.CheckInvariants() ?? []];

    private void Collect(long rawNowMs)
    {
        if (Master is { HasReady: true })
        {
            var ready = Master.TakeReady();
            Master.Advance(ready);
            foreach (var o in ready.MessagesAfterPersist)
            {
                if (o.To == Self && o.Message is BerkeleyAdjust own) Member.Step(own, rawNowMs);
                else _ready.Send(o.To, o.Message);
            }
            foreach (var a in ready.Answers) _ready.Answer(a);
        }
        if (Member.HasReady)
        {
            var ready = Member.TakeReady();
            Member.Advance(ready);
            foreach (var o in ready.MessagesAfterPersist) _ready.Send(o.To, o.Message);
            foreach (var a in ready.Answers) _ready.Answer(a);
        }
    }
}

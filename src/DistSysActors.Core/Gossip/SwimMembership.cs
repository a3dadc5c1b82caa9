using System.Collections.Immutable;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Gossip;

/// <summary>
/// SWIM membership (Das, Gupta, Motivala: "SWIM: Scalable Weakly-consistent Infection-style Process Group Membership
/// Protocol", 2002) with Lifeguard's shrinking suspicion timeout (Dadgar, Phillips, Currey 2018), as a pure core.
/// Each protocol period it probes one member (a shuffled round robin over the live ones, section 4.3); a probe not
/// acked within the ping timeout goes through k other members (ping-req); one not acked by the period's end makes the
/// target suspect. Suspicions, refutations (a member raising its own incarnation) and deaths spread piggybacked on
/// pings and acks, each λ·log N times per node; a periodic push-pull of whole views heals what piggybacking missed.
/// Time enters as <c>nowMs</c>; randomness from the injected seeded source.
/// </summary>
public sealed partial class SwimMembership : IProtocolCore<SwimMessage, ProtocolReady<SwimMessage>>
{
    private readonly ReadyBuffer<SwimMessage> _ready = new();
    private readonly DeterministicRandom _random;
    // Sorted lists, not dictionaries: enumerated after every event, and a tree enumerator costs far more per element.
    private readonly SortedList<NodeId, Member> _members = new();
    private readonly Dictionary<long, Relay> _relays = new();
    private readonly List<NodeId> _probeOrder = [];
    private int _probeIndex;
    private long _seq;
    private long _nextPeriodAtMs = long.MinValue;
    private Probe? _probe;
    private bool _left;
    // Kept as the states change, so per-message work does not walk the whole view.
    private int _deadCount, _suspectCount;

    public SwimMembership(NodeId self, IEnumerable<NodeId> seeds, SwimConfig config, DeterministicRandom random)
    {
        var errors = config.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(config));
        Self = self;
        Config = config;
        _random = random;
        _members[self] = new Member(MemberState.Alive, 0, 0);
        // Seeds start alive at incarnation 0: a seed that is not up is suspected and declared dead like any failed member.
        foreach (var seed in seeds.Where(s => s != self).Distinct().Order()) _members[seed] = new Member(MemberState.Alive, 0, 0);
        // Announce ourselves: a node that (re)starts tells the group, and a stale verdict about it comes back to be refuted.
        Broadcast(new MemberUpdate(self, MemberState.Alive, 0, self));
    }

    public NodeId Self { get; }
    public SwimConfig Config { get; }

    public long Incarnation => _members[Self].Incarnation;
    public long Rounds { get; private set; }
    public long MessagesSent { get; private set; }
    public long PingReqsSent { get; private set; }
    public long SuspicionsRaised { get; private set; }
    public long Refutations { get; private set; }
    public bool HasLeft => _left;

    /// <summary>Members not known dead, this node included: the N of the formulas.</summary>
    public int LiveCount => _members.Count - _deadCount;

    public MemberState? StateOf(NodeId member) => _members.TryGetValue(member, out var m) ? m.State : null;

    public long? IncarnationOf(NodeId member) => _members.TryGetValue(member, out var m) ? m.Incarnation : null;

    public void Tick(long nowMs)
    {
        if (_left) return;
        ExpireSuspicions(nowMs);
        ExpireRelays(nowMs);
        if (nowMs >= _nextPeriodAtMs)
        {
            EndProbe(nowMs);
            StartPeriod(nowMs);
        }
        else if (_probe is { Acked: false, IndirectSent: false } probe && nowMs >= probe.StartedAtMs + Config.PingTimeoutMs)
        {
            SendPingReqs(probe);
        }
    }

    public void Step(SwimMessage message, long nowMs)
    {
        if (_left) return;
        // A sync request is answered with our view anyway: no need to push it twice.
        Learn(message.From, nowMs, pushView: message is not SwimSync { IsReply: false });
        foreach (var update in message.Updates) Merge(update, nowMs);
        switch (message)
        {
            case SwimPing p:
                Send(p.From, new SwimAck(Self, p.Seq, Piggyback(p.From)));
                break;
            case SwimAck a:
                if (_probe is { } probe && probe.Seq == a.Seq) probe.Acked = true;
                else if (_relays.Remove(a.Seq, out var relay)) Send(relay.Requester, new SwimAck(Self, relay.RequesterSeq, Piggyback(relay.Requester)));
                break;
            case SwimPingReq r:
                if (r.Target == Self) Send(r.From, new SwimAck(Self, r.Seq, Piggyback(r.From)));
                else if (_relays.Count < Config.RelaysMax)
                {
                    var seq = ++_seq;
                    _relays[seq] = new Relay(r.From, r.Seq, nowMs + Config.PeriodMs);
                    Send(r.Target, new SwimPing(Self, seq, Piggyback(r.Target)));
                }
                break;
            case SwimSync s when !s.IsReply:
                Send(s.From, new SwimSync(Self, true, View()));
                break;
        }
    }

    /// <summary>Leaves gracefully: tells a few members it is dead by its own word (reporter = itself), then stops.</summary>
    public void Leave(long nowMs)
    {
        if (_left) return;
        var me = _members[Self];
        var leave = new MemberUpdate(Self, MemberState.Dead, me.Incarnation, Self);
        var targets = LiveOthers().ToList();
        Shuffle(targets);
        foreach (var target in targets.Take(Math.Max(Config.IndirectProbes, 1)))
            Send(target, new SwimSync(Self, true, [leave]));
        _left = true;
    }

    public bool HasReady => _ready.HasReady;
    public ProtocolReady<SwimMessage> TakeReady() => _ready.Take();
    public void Advance(ProtocolReady<SwimMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants()
    {
        var violations = new List<string>();
        var me = _members[Self];
        if (!_left && me.State != MemberState.Alive) violations.Add($"node {Self} sees itself {me.State}");
        int dead = 0, suspect = 0;
        var ids = _members.Keys;
        var members = _members.Values;
        for (var i = 0; i < members.Count; i++)
        {
            var m = members[i];
            if (m.State == MemberState.Dead) dead++;
            else if (m.State == MemberState.Suspect) suspect++;
            if (m.State == MemberState.Suspect && m.Confirmations.Count == 0) violations.Add($"member {ids[i]} suspect without a suspicion");
            if (m.State != MemberState.Suspect && m.Confirmations.Count > 0) violations.Add($"member {ids[i]} {m.State} with confirmations left");
            if (m.Incarnation < 0) violations.Add($"member {ids[i]} at negative incarnation {m.Incarnation}");
        }
        if (dead != _deadCount || suspect != _suspectCount) violations.Add($"counted {_deadCount} dead and {_suspectCount} suspect, the view holds {dead} and {suspect}");
        if (_broadcasts.Count > _members.Count) violations.Add($"{_broadcasts.Count} broadcasts for {_members.Count} members");
        if (_relays.Count > Config.RelaysMax) violations.Add($"{_relays.Count} relays, limit {Config.RelaysMax}");
        if (_members.Count > Config.MembersMax) violations.Add($"{_members.Count} members, limit {Config.MembersMax}");
        return violations;
    }

    public SwimStatus Status() => new(Self,
        [.. _members.Select(kv => new SwimMemberView(kv.Key, kv.Value.State, kv.Value.Incarnation))],
        Rounds, MessagesSent, PingReqsSent, SuspicionsRaised, Refutations, _broadcasts.Count);

    private void StartPeriod(long nowMs)
    {
        _nextPeriodAtMs = nowMs + Config.PeriodMs;
        Rounds++;
        if (NextProbeTarget() is { } target)
        {
            var seq = ++_seq;
            _probe = new Probe(target, seq, nowMs);
            Send(target, new SwimPing(Self, seq, Piggyback(target)));
        }
        if (Config.SyncEveryRounds > 0 && Rounds % Config.SyncEveryRounds == 0 && RandomOther(includeDead: true) is { } peer)
            Send(peer, new SwimSync(Self, false, View()));
    }

    // The period is over: a target that acked neither directly nor through anyone becomes suspect (section 3.1).
    private void EndProbe(long nowMs)
    {
        if (_probe is not { Acked: false } probe) { _probe = null; return; }
        _probe = null;
        if (_members.TryGetValue(probe.Target, out var m) && m.State == MemberState.Alive)
            Merge(new MemberUpdate(probe.Target, MemberState.Suspect, m.Incarnation, Self), nowMs);
    }

    private void SendPingReqs(Probe probe)
    {
        probe.IndirectSent = true;
        var helpers = LiveOthers().Where(n => n != probe.Target).ToList();
        Shuffle(helpers);
        foreach (var helper in helpers.Take(Config.IndirectProbes))
        {
            PingReqsSent++;
            Send(helper, new SwimPingReq(Self, probe.Seq, probe.Target, Piggyback(helper)));
        }
    }

    // A shuffled round robin over the live members: every member is probed once per pass, in a fresh random order (section 4.3).
    private NodeId? NextProbeTarget()
    {
        for (var attempts = 0; attempts < 2; attempts++)
        {
            while (_probeIndex < _probeOrder.Count)
            {
                var candidate = _probeOrder[_probeIndex++];
                if (candidate != Self && _members.TryGetValue(candidate, out var m) && m.State != MemberState.Dead) return candidate;
            }
            _probeOrder.Clear();
            _probeOrder.AddRange(LiveOthers());
            Shuffle(_probeOrder);
            _probeIndex = 0;
        }
        return null;
    }

    private void ExpireRelays(long nowMs)
    {
        if (_relays.Count == 0) return;
        foreach (var seq in _relays.Where(kv => kv.Value.ExpiresAtMs <= nowMs).Select(kv => kv.Key).Order().ToList()) _relays.Remove(seq);
    }

    private IEnumerable<NodeId> LiveOthers() => _members.Where(kv => kv.Key != Self && kv.Value.State != MemberState.Dead).Select(kv => kv.Key);

    private NodeId? RandomOther(bool includeDead)
    {
        var candidates = _members.Where(kv => kv.Key != Self && (includeDead || kv.Value.State != MemberState.Dead)).Select(kv => kv.Key).ToList();
        return candidates.Count == 0 ? null : candidates[_random.NextInt(0, candidates.Count)];
    }

    private void Shuffle(List<NodeId> list)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = _random.NextInt(0, i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    private ImmutableArray<MemberUpdate> View() =>
        [.. _members.Select(kv => new MemberUpdate(kv.Key, kv.Value.State, kv.Value.Incarnation, kv.Value.Reporter ?? Self))];

    private void Send(NodeId to, SwimMessage message)
    {
        MessagesSent++;
        _ready.Send(to, message);
    }

    private sealed class Member(MemberState state, long incarnation, long changedAtMs)
    {
        public MemberState State = state;
        public long Incarnation = incarnation;
        public long ChangedAtMs = changedAtMs;
        public NodeId? Reporter;
        /// <summary>Distinct members that reported the current suspicion (Lifeguard's independent confirmations, the first included).</summary>
        public readonly SortedSet<NodeId> Confirmations = [];
    }

    private sealed class Probe(NodeId target, long seq, long startedAtMs)
    {
        public NodeId Target { get; } = target;
        public long Seq { get; } = seq;
        public long StartedAtMs { get; } = startedAtMs;
        public bool Acked;
        public bool IndirectSent;
    }

    private sealed record Relay(NodeId Requester, long RequesterSeq, long ExpiresAtMs);
}

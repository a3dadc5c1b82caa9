using DistSysActors.Core.Quorum;
using static DistSysActors.Core.Paxos.RegisterPaxos;

namespace DistSysActors.Core.Paxos;

/// <summary>Timing and limits of a Basic Paxos proposer.</summary>
public sealed record RegisterProposerOptions
{
    public static readonly RegisterProposerOptions Default = new();

    /// <summary>A round that has not reached its next phase within this time is abandoned and retried after a backoff.</summary>
    public int RoundTimeoutMs { get; init; } = 200;

    public PaxosBackoff Backoff { get; init; } = PaxosBackoff.Default;

    /// <summary>Rounds one proposal may take before the proposer gives up (answered <see cref="NotDecided"/>).</summary>
    public int AttemptsMax { get; init; } = 50;

    /// <summary>Proposals in progress at once; more are refused.</summary>
    public int ProposalsMax { get; init; } = 1_000;

    /// <summary>Phase lines kept per proposal for its answer.</summary>
    public int PhasesMax { get; init; } = 64;
}

/// <summary>
/// The proposer of Basic Paxos ("Paxos Made Simple", section 2.2). Phase 1: a fresh ballot, persisted before the
/// Prepares leave, so a restart never reuses it; a majority of promises lets it propose the value of the highest
/// ballot any of them accepted, or its own. Phase 2: a majority of Accepted at that ballot chooses the value, which it
/// announces to every learner. A rejection or a timeout abandons the round; the next one starts after a randomized,
/// growing backoff (<see cref="PaxosBackoff"/>) with a ballot above every one it has seen.
/// </summary>
public sealed class RegisterProposer
{
    private readonly NodeId _self;
    private readonly IReadOnlyList<NodeId> _nodes;
    private readonly MajorityQuorum _quorum;
    private readonly IRegisterEffects _effects;
    private readonly DeterministicRandom _random;
    private readonly RegisterProposerOptions _options;
    private readonly SortedDictionary<string, Proposal> _proposals = new(StringComparer.Ordinal);
    private long _roundUsed;
    private long _roundSeen;

    public RegisterProposer(NodeId self, IReadOnlyList<NodeId> nodes, IRegisterEffects effects, DeterministicRandom random, RegisterProposerOptions? options = null)
    {
        _self = self;
        _nodes = [.. nodes.Distinct().Order()];
        _quorum = new MajorityQuorum(_nodes);
        _effects = effects;
        _random = random;
        _options = options ?? RegisterProposerOptions.Default;
    }

    /// <summary>Highest round this proposer used (persisted before use).</summary>
    public long RoundUsed => _roundUsed;

    public int InProgress => _proposals.Count;

    /// <summary>Rounds begun over this proposer's life (incarnation), for tests and status.</summary>
    public long RoundsBegun { get; private set; }

    public void Restore(RoundRecord record) => _roundUsed = Math.Max(_roundUsed, record.Round);

    /// <summary>The ballot of the proposal in progress for <paramref name="name"/>, if any.</summary>
    public Ballot? BallotOf(string name) => _proposals.TryGetValue(name, out var p) ? p.Ballot : null;

    /// <summary>Starts a proposal (or joins the one in progress for the register); value null runs a read round.</summary>
    public void Start(long requestId, string name, string? value, long nowMs)
    {
        if (_proposals.TryGetValue(name, out var running))
        {
            running.RequestIds.Add(requestId);
            running.Value ??= value;
            return;
        }
        if (_proposals.Count >= _options.ProposalsMax)
        {
            _effects.Answer(new NotDecided(requestId, name, $"{_options.ProposalsMax} proposals already in progress", []));
            return;
        }
        var p = new Proposal(name, value);
        p.RequestIds.Add(requestId);
        _proposals.Add(name, p);
        BeginRound(p, nowMs);
    }

    public void OnPromise(Promise m, long nowMs)
    {
        if (!_proposals.TryGetValue(m.Name, out var p) || p.Phase != Phase.Preparing || m.Ballot != p.Ballot) return;
        if (!p.Promises.Add(m.From)) return;
        if (m.AcceptedBallot > p.HighestAccepted)
        {
            p.HighestAccepted = m.AcceptedBallot;
            p.HighestValue = m.AcceptedValue;
        }
        if (!_quorum.IsQuorum(p.Promises)) return;
        // P2c: the value of the highest-numbered proposal a majority's members accepted, else any value (our own).
        var value = p.HighestValue ?? p.Value;
        if (value is null)
        {
            Note(p, $"promised by a majority, nothing accepted: no value is chosen");
            Complete(p, null, p.Ballot);
            return;
        }
        p.Proposed = value;
        p.Phase = Phase.Accepting;
        p.DeadlineMs = nowMs + _options.RoundTimeoutMs;
        Note(p, p.HighestValue is not null && !string.Equals(p.HighestValue, p.Value, StringComparison.Ordinal)
            ? $"promised by a majority; adopts '{value}' accepted at {p.HighestAccepted}; sends Accept"
            : $"promised by a majority; sends Accept '{value}'");
        foreach (var node in _nodes) _effects.Send(node, new Accept(_self, p.Name, p.Ballot, value));
    }

    public void OnAccepted(Accepted m)
    {
        if (!_proposals.TryGetValue(m.Name, out var p) || p.Phase != Phase.Accepting || m.Ballot != p.Ballot) return;
        if (!p.Accepts.Add(m.From) || !_quorum.IsQuorum(p.Accepts)) return;
        Note(p, $"accepted by a majority: '{p.Proposed}' is chosen");
        foreach (var node in _nodes) _effects.Send(node, new Chosen(_self, p.Name, p.Ballot, p.Proposed!));
        Complete(p, p.Proposed, p.Ballot);
    }

    public void OnRejected(Rejected m, long nowMs)
    {
        _roundSeen = Math.Max(_roundSeen, m.Promised.Round);
        if (!_proposals.TryGetValue(m.Name, out var p) || m.Ballot != p.Ballot || p.Phase is not (Phase.Preparing or Phase.Accepting)) return;
        Note(p, $"rejected by {m.From}, which promised {m.Promised}");
        BackOff(p, nowMs);
    }

    /// <summary>This node's learner learned the register's value: proposals for it are answered with it.</summary>
    public void OnLearned(string name, string value, Ballot ballot)
    {
        if (!_proposals.TryGetValue(name, out var p)) return;
        if (p.Phase != Phase.Done) Note(p, $"learned '{value}' chosen at {ballot}");
        Complete(p, value, ballot);
    }

    public void Tick(long nowMs)
    {
        foreach (var p in _proposals.Values.ToArray())
        {
            if (p.Phase is Phase.Preparing or Phase.Accepting && nowMs >= p.DeadlineMs)
            {
                Note(p, $"no majority within {_options.RoundTimeoutMs} ms");
                BackOff(p, nowMs);
            }
            else if (p.Phase == Phase.BackingOff && nowMs >= p.RetryAtMs) BeginRound(p, nowMs);
        }
    }

    private void BeginRound(Proposal p, long nowMs)
    {
        var round = Math.Max(_roundUsed, _roundSeen) + 1;
        _roundUsed = round;
        _effects.Persist(new RoundRecord(round));
        p.Ballot = new Ballot(round, _self);
        p.Phase = Phase.Preparing;
        p.Promises.Clear();
        p.Accepts.Clear();
        p.HighestAccepted = Ballot.Zero;
        p.HighestValue = null;
        p.Proposed = null;
        p.DeadlineMs = nowMs + _options.RoundTimeoutMs;
        RoundsBegun++;
        Note(p, "sends Prepare");
        foreach (var node in _nodes) _effects.Send(node, new Prepare(_self, p.Name, p.Ballot));
    }

    private void BackOff(Proposal p, long nowMs)
    {
        p.Attempts++;
        if (p.Attempts >= _options.AttemptsMax)
        {
            _proposals.Remove(p.Name);
            p.Phase = Phase.Done;
            foreach (var id in p.RequestIds) _effects.Answer(new NotDecided(id, p.Name, $"no value chosen after {p.Attempts} rounds", p.Phases));
            return;
        }
        var delay = _options.Backoff.Delay(p.Attempts, _random);
        p.Phase = Phase.BackingOff;
        p.RetryAtMs = nowMs + delay;
        Note(p, $"backs off {delay} ms (attempt {p.Attempts})");
    }

    private void Complete(Proposal p, string? value, Ballot ballot)
    {
        _proposals.Remove(p.Name);
        p.Phase = Phase.Done;
        foreach (var id in p.RequestIds) _effects.Answer(new Outcome(id, p.Name, value, ballot, p.Phases));
    }

    private void Note(Proposal p, string text)
    {
        var line = $"{_self} {p.Ballot}: {text}";
        if (p.Phases.Count < _options.PhasesMax) p.Phases.Add(line);
        _effects.Answer(new PhaseEvent(_self, p.Name, p.Ballot, text));
    }

    private enum Phase { Preparing, Accepting, BackingOff, Done }

    private sealed class Proposal(string name, string? value)
    {
        public string Name { get; } = name;
        public string? Value { get; set; } = value;
        public List<long> RequestIds { get; } = [];
        public Phase Phase { get; set; }
        public Ballot Ballot { get; set; }
        public HashSet<NodeId> Promises { get; } = [];
        public HashSet<NodeId> Accepts { get; } = [];
        public Ballot HighestAccepted { get; set; }
        public string? HighestValue { get; set; }
        public string? Proposed { get; set; }
        public long DeadlineMs { get; set; }
        public long RetryAtMs { get; set; }
        public int Attempts { get; set; }
        public List<string> Phases { get; } = [];
    }
}

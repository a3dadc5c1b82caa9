using DistSysActors.Core.Protocol;
using static DistSysActors.Core.Paxos.RegisterPaxos;

namespace DistSysActors.Core.Paxos;

/// <summary>
/// Basic Paxos on one node: its proposer, acceptor and learner behind one core. A message a role sends to its own
/// node is handed to the local role at once (no network), yet its effects still leave only after the Ready's writes are
/// durable, so a local promise counts no earlier than a remote one could. The same roles can each run in a core of
/// their own (<see cref="RegisterRoleCore"/>), one actor per role.
/// </summary>
public sealed class RegisterNode : IProtocolCore<RegisterMessage, ProtocolReady<RegisterMessage>>, IRegisterEffects
{
    private readonly ReadyBuffer<RegisterMessage> _ready = new();
    private readonly Queue<RegisterMessage> _local = new();
    private long _nowMs;

    /// <param name="journal">The records this node persisted, oldest first (its recovery).</param>
    public RegisterNode(NodeId self, IReadOnlyList<NodeId> nodes, DeterministicRandom random, IEnumerable<object>? journal = null,
        RegisterProposerOptions? options = null)
    {
        Self = self;
        Acceptor = new RegisterAcceptor(self, this);
        Learner = new RegisterLearner(self, this);
        Proposer = new RegisterProposer(self, nodes, this, random, options);
        foreach (var record in journal ?? []) Restore(this, record);
    }

    public NodeId Self { get; }
    public RegisterAcceptor Acceptor { get; }
    public RegisterProposer Proposer { get; }
    public RegisterLearner Learner { get; }

    /// <summary>Replays one journal record into the role it belongs to.</summary>
    public static void Restore(RegisterNode node, object record)
    {
        switch (record)
        {
            case AcceptorRecord a: node.Acceptor.Restore(a); break;
            case RoundRecord r: node.Proposer.Restore(r); break;
            case ChosenRecord c: node.Learner.Restore(c); break;
        }
    }

    /// <summary>Proposes a value (or, with null, runs a read round); the answer is an <see cref="Outcome"/> or <see cref="NotDecided"/>.</summary>
    public void Propose(long requestId, string name, string? value, long nowMs)
    {
        _nowMs = nowMs;
        if (Learner.ChosenOf(name) is { } chosen) Answer(new Outcome(requestId, name, chosen.Value, chosen.Ballot, [$"{Self}: already learned '{chosen.Value}' chosen at {chosen.Ballot}"]));
        else Proposer.Start(requestId, name, value, nowMs);
        RunLocal();
    }

    /// <summary>The register's value: what the learner knows, else a read round (which never answers "none" for a chosen value).</summary>
    public void Read(long requestId, string name, long nowMs) => Propose(requestId, name, null, nowMs);

    public void Step(RegisterMessage message, long nowMs)
    {
        _nowMs = nowMs;
        Dispatch(message);
        RunLocal();
    }

    public void Tick(long nowMs)
    {
        _nowMs = nowMs;
        Proposer.Tick(nowMs);
        RunLocal();
    }

    private void Dispatch(RegisterMessage message)
    {
        switch (message)
        {
            case Prepare m: Acceptor.OnPrepare(m); break;
            case Accept m: Acceptor.OnAccept(m); break;
            case Promise m: Proposer.OnPromise(m, _nowMs); break;
            case Accepted m: Proposer.OnAccepted(m); break;
            case Rejected m: Proposer.OnRejected(m, _nowMs); break;
            case Chosen m:
                Learner.OnChosen(m);
                if (Learner.ChosenOf(m.Name) is { } known) Proposer.OnLearned(known.Name, known.Value, known.Ballot);
                break;
            case LearnRequest m: Learner.OnLearnRequest(m); break;
        }
    }

    private void RunLocal()
    {
        while (_local.TryDequeue(out var message)) Dispatch(message);
    }

    void IRegisterEffects.Send(NodeId to, RegisterMessage message)
    {
        if (to == Self) _local.Enqueue(message);
        else _ready.Send(to, message);
    }

    void IRegisterEffects.Persist(object record) => _ready.Persist(record);

    private void Answer(object answer) => _ready.Answer(answer);

    void IRegisterEffects.Answer(object answer) => _ready.Answer(answer);

    public bool HasReady => _ready.HasReady;

    public ProtocolReady<RegisterMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<RegisterMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants() => [.. Acceptor.CheckInvariants(), .. Learner.CheckInvariants()];
}

/// <summary>
/// One role of Basic Paxos as a core of its own, for a host that runs each role as its own actor: messages to any
/// node, this one included, go out through the host (which delivers each to the role <see cref="RoleOf"/> names).
/// </summary>
public sealed class RegisterRoleCore : IProtocolCore<RegisterMessage, ProtocolReady<RegisterMessage>>, IRegisterEffects
{
    private readonly ReadyBuffer<RegisterMessage> _ready = new();

    public RegisterRoleCore(Role role, NodeId self, IReadOnlyList<NodeId> nodes, DeterministicRandom random, IEnumerable<object>? journal = null,
        RegisterProposerOptions? options = null)
    {
        Role = role;
        Self = self;
        switch (role)
        {
            case Role.Acceptor: Acceptor = new RegisterAcceptor(self, this); break;
            case Role.Learner: Learner = new RegisterLearner(self, this); break;
            default: Proposer = new RegisterProposer(self, nodes, this, random, options); break;
        }
        foreach (var record in journal ?? []) Restore(record);
    }

    /// <summary>Replays one journal record or snapshot into this role.</summary>
    public void Restore(object record)
    {
        switch (record)
        {
            case AcceptorRecord a: Acceptor?.Restore(a); break;
            case RoundRecord r: Proposer?.Restore(r); break;
            case ChosenRecord c: Learner?.Restore(c); break;
            case RoleSnapshot s:
                Proposer?.Restore(new RoundRecord(s.RoundUsed));
                foreach (var a in s.Acceptor) Acceptor?.Restore(a);
                foreach (var c in s.Chosen) Learner?.Restore(c);
                break;
        }
    }

    /// <summary>This role's durable state at once (for a host's snapshot).</summary>
    public RoleSnapshot Snapshot() => new(Proposer?.RoundUsed ?? 0, [.. Acceptor?.States ?? []], [.. Learner?.Chosen ?? []]);

    public Role Role { get; }
    public NodeId Self { get; }
    public RegisterAcceptor? Acceptor { get; }
    public RegisterProposer? Proposer { get; }
    public RegisterLearner? Learner { get; }

    public void Step(RegisterMessage message, long nowMs)
    {
        switch (message)
        {
            case Prepare m: Acceptor?.OnPrepare(m); break;
            case Accept m: Acceptor?.OnAccept(m); break;
            case Promise m: Proposer?.OnPromise(m, nowMs); break;
            case Accepted m: Proposer?.OnAccepted(m); break;
            case Rejected m: Proposer?.OnRejected(m, nowMs); break;
            case Chosen m:
                if (Learner is not null) Learner.OnChosen(m);
                else Proposer?.OnLearned(m.Name, m.Value, m.Ballot);
                break;
            case LearnRequest m: Learner?.OnLearnRequest(m); break;
        }
    }

    public void Tick(long nowMs) => Proposer?.Tick(nowMs);

    void IRegisterEffects.Send(NodeId to, RegisterMessage message) => _ready.Send(to, message);

    void IRegisterEffects.Persist(object record) => _ready.Persist(record);

    void IRegisterEffects.Answer(object answer) => _ready.Answer(answer);

    public bool HasReady => _ready.HasReady;

    public ProtocolReady<RegisterMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<RegisterMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants() => [.. Acceptor?.CheckInvariants() ?? [], .. Learner?.CheckInvariants() ?? []];
}

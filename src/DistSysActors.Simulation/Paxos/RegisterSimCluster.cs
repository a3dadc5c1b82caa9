using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.Paxos;
using DistSysActors.Core.Protocol;
using DistSysActors.Simulation.Protocol;
using static DistSysActors.Core.Paxos.RegisterPaxos;

namespace DistSysActors.Simulation.Paxos;

using RegisterSimNode = ProtocolSimNode<RegisterNode, RegisterMessage, ProtocolReady<RegisterMessage>>;

/// <summary>
/// Basic Paxos registers on the simulator: one <see cref="RegisterNode"/> per node on <see cref="ProtocolSimNode"/> with
/// asynchronous storage (a restart rebuilds the node from its journal alone), and <see cref="RegisterChecker"/>'s
/// invariants checked after every event.
/// </summary>
public sealed class RegisterSimCluster
{
    private long _nextRequestId;
    private readonly Dictionary<long, (NodeId Node, string Name, string? Value, bool ChosenBefore)> _requests = [];

    public RegisterSimCluster(SimulatorOptions options, int size, RegisterProposerOptions? proposer = null)
    {
        Sim = new Simulator<RegisterMessage>(options);
        Ids = [.. Enumerable.Range(1, size).Select(i => new NodeId(i))];
        Checker = new RegisterChecker(Sim, Ids, id => Sim.Node<RegisterSimNode>(id)?.Core);
        var nodeOptions = new ProtocolSimOptions<RegisterNode> { AsyncStorage = true, OnAnswer = OnAnswer };
        Sim.AddNodes(Ids, (id, storage) =>
            new RegisterSimNode(new RegisterNode(id, Ids, Sim.ForkRandom(), storage.Log<object>(ProtocolSimNode.JournalName).ReadAll(), proposer), nodeOptions));
    }

    public Simulator<RegisterMessage> Sim { get; }
    public ImmutableArray<NodeId> Ids { get; }
    public RegisterChecker Checker { get; }
    public long Seed => Sim.Seed;

    /// <summary>Answers to proposals and reads, by request id.</summary>
    public Dictionary<long, Outcome> Outcomes { get; } = [];
    public Dictionary<long, NotDecided> Failures { get; } = [];

    /// <summary>Every proposer step, in order (the duel's transcript).</summary>
    public List<PhaseEvent> Phases { get; } = [];

    public RegisterNode? Core(NodeId id) => Sim.Node<RegisterSimNode>(id)?.Core;

    /// <summary>Proposes <paramref name="value"/> (null: a read round) for register <paramref name="name"/> at <paramref name="node"/> now; returns the request id.</summary>
    public long Propose(NodeId node, string name, string? value)
    {
        var id = ++_nextRequestId;
        _requests[id] = (node, name, value, Checker.ChosenValue(name) is not null);
        Sim.Invoke<RegisterSimNode>(node, (n, ctx) => n.Invoke(ctx, (core, now) => core.Propose(id, name, value, now)));
        return id;
    }

    public long Read(NodeId node, string name) => Propose(node, name, null);

    public bool Answered(long requestId) => Outcomes.ContainsKey(requestId) || Failures.ContainsKey(requestId);

    private void OnAnswer(NodeId node, object answer)
    {
        switch (answer)
        {
            case Outcome o:
                Outcomes[o.RequestId] = o;
                if (_requests.TryGetValue(o.RequestId, out var request)) Checker.OnOutcome(node, o, request.ChosenBefore);
                break;
            case NotDecided f: Failures[f.RequestId] = f; break;
            case PhaseEvent p: Phases.Add(p); break;
        }
    }
}

/// <summary>
/// The safety of Basic Paxos, checked after every event: at most one value is chosen per register (a value is chosen
/// when a majority's durable acceptor records hold it at one ballot); learners and answers hold only that value; a
/// read answers "nothing chosen" only when nothing was chosen before it began; an acceptor never holds a promise below
/// one its messages revealed, across crashes.
/// </summary>
public sealed class RegisterChecker
{
    private readonly ImmutableArray<NodeId> _ids;
    private readonly int _majority;
    private readonly Func<NodeId, RegisterNode?> _core;
    private readonly Simulator<RegisterMessage> _sim;
    private readonly Dictionary<NodeId, long> _journalRead = [];
    private readonly Dictionary<(string Name, Ballot Ballot), (string Value, HashSet<NodeId> Nodes)> _acceptances = [];
    private readonly SortedDictionary<string, (string Value, Ballot Ballot)> _chosen = new(StringComparer.Ordinal);
    private readonly Dictionary<(NodeId Node, string Name), Ballot> _revealed = [];
    private readonly List<string> _violations = [];

    public RegisterChecker(Simulator<RegisterMessage> sim, ImmutableArray<NodeId> ids, Func<NodeId, RegisterNode?> core)
    {
        _sim = sim;
        _ids = ids;
        _majority = ids.Length / 2 + 1;
        _core = core;
        var previous = sim.TraceListener;
        sim.TraceListener = e => { previous?.Invoke(e); OnTrace(e); };
        sim.Invariants.Add("one value chosen per register, never changed", () => { ScanJournals(); return First(); });
        sim.Invariants.Add("learners hold only the chosen value", CheckLearners);
        sim.Invariants.Add("promises survive crashes", CheckPromises);
    }

    /// <summary>The value chosen for a register so far (by durable acceptances), or null.</summary>
    public string? ChosenValue(string name)
    {
        ScanJournals();
        return _chosen.TryGetValue(name, out var c) ? c.Value : null;
    }

    public IReadOnlyDictionary<string, (string Value, Ballot Ballot)> Chosen => _chosen;

    internal void OnOutcome(NodeId node, Outcome o, bool chosenBefore)
    {
        ScanJournals();
        if (o.Value is null)
        {
            if (chosenBefore) _violations.Add($"node {node} answered request {o.RequestId}: nothing chosen for {o.Name}, yet '{_chosen[o.Name].Value}' was chosen before it began");
        }
        else if (!_chosen.TryGetValue(o.Name, out var c) || c.Value != o.Value)
            _violations.Add($"node {node} answered request {o.RequestId}: '{o.Value}' for {o.Name}, chosen is {(_chosen.TryGetValue(o.Name, out var x) ? $"'{x.Value}'" : "nothing")}");
    }

    private string? First() => _violations.Count > 0 ? string.Join("; ", _violations) : null;

    private void OnTrace(SimTraceEvent e)
    {
        if (e.Kind != SimTraceKind.Sent) return;
        var (name, ballot) = e.Detail switch
        {
            Promise p => (p.Name, p.Ballot),
            Accepted a => (a.Name, a.Ballot),
            _ => (null, Ballot.Zero),
        };
        if (name is null) return;
        var key = (e.Node, name);
        if (!_revealed.TryGetValue(key, out var had) || ballot > had) _revealed[key] = ballot;
    }

    /// <summary>Reads the acceptor records made durable since the last scan (storage survives crashes).</summary>
    private void ScanJournals()
    {
        foreach (var id in _ids)
        {
            var log = _sim.Storage(id).Log<object>(ProtocolSimNode.JournalName);
            var from = _journalRead.GetValueOrDefault(id);
            if (log.NextIndex <= from) continue;
            foreach (var record in log.ReadFrom(from))
                if (record is AcceptorRecord { AcceptedValue: { } value } a && !a.AcceptedBallot.IsZero) OnDurableAcceptance(id, a.Name, a.AcceptedBallot, value);
            _journalRead[id] = log.NextIndex;
        }
    }

    private void OnDurableAcceptance(NodeId node, string name, Ballot ballot, string value)
    {
        if (!_acceptances.TryGetValue((name, ballot), out var acceptance)) _acceptances[(name, ballot)] = acceptance = (value, []);
        if (acceptance.Value != value) _violations.Add($"register {name}: ballot {ballot} carried '{acceptance.Value}' and '{value}'");
        acceptance.Nodes.Add(node);
        if (acceptance.Nodes.Count < _majority) return;
        if (_chosen.TryGetValue(name, out var chosen))
        {
            if (chosen.Value != value) _violations.Add($"register {name}: '{chosen.Value}' chosen at {chosen.Ballot}, then '{value}' at {ballot}");
        }
        else _chosen[name] = (value, ballot);
    }

    private string? CheckLearners()
    {
        foreach (var id in _ids)
        {
            if (_core(id) is not { } core) continue;
            foreach (var learned in core.Learner.Chosen)
            {
                // The proposer's own learner learns in memory before the Ready's writes are durable: judge it then.
                if (!_chosen.TryGetValue(learned.Name, out var chosen))
                {
                    ScanJournals();
                    if (!_chosen.TryGetValue(learned.Name, out chosen)) continue;
                }
                if (chosen.Value != learned.Value) return $"node {id} learned '{learned.Value}' for {learned.Name}, chosen is '{chosen.Value}'";
            }
        }
        return null;
    }

    private string? CheckPromises()
    {
        foreach (var ((node, name), ballot) in _revealed)
        {
            if (_core(node) is not { } core) continue;
            var promised = core.Acceptor.StateOf(name)?.Promised ?? Ballot.Zero;
            if (promised < ballot) return $"node {node} register {name}: promised {promised}, below {ballot} it revealed before (a broken promise)";
        }
        return null;
    }
}

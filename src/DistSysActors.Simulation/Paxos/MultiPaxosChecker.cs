using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.Paxos;
using DistSysActors.Simulation.Protocol;
using static DistSysActors.Core.Paxos.MultiPaxos;

namespace DistSysActors.Simulation.Paxos;

/// <summary>
/// The safety of Multi-Paxos, checked after every event: per slot at most one command is chosen (a majority's durable
/// acceptor records at one ballot); every node decides and applies, in slot order, only that command, and a decided slot
/// never changes, across all nodes and incarnations; an acceptor never holds a promise below one its messages revealed.
/// </summary>
public sealed class MultiPaxosChecker
{
    private readonly Simulator<Message> _sim;
    private readonly ImmutableArray<NodeId> _ids;
    private readonly int _majority;
    private readonly Func<NodeId, MultiPaxosNode?> _core;
    private readonly Dictionary<NodeId, long> _journalRead = [];
    private readonly Dictionary<(long Slot, Ballot Ballot), (byte[]? Command, HashSet<NodeId> Nodes)> _acceptances = [];
    private readonly Dictionary<long, byte[]?> _chosen = [];
    private readonly Dictionary<long, (NodeId Node, byte[]? Command)> _decided = [];
    private readonly Dictionary<NodeId, Ballot> _revealed = [];
    private readonly List<string> _violations = [];

    public MultiPaxosChecker(Simulator<Message> sim, ImmutableArray<NodeId> ids, Func<NodeId, MultiPaxosNode?> core)
    {
        _sim = sim;
        _ids = ids;
        _majority = ids.Length / 2 + 1;
        _core = core;
        var previous = sim.TraceListener;
        sim.TraceListener = e => { previous?.Invoke(e); OnTrace(e); };
        sim.Invariants.Add("one command chosen per slot; decided slots agree and never change", () =>
        {
            ScanJournals();
            return _violations.Count > 0 ? string.Join("; ", _violations.Take(5)) : null;
        });
        sim.Invariants.Add("promises survive crashes", CheckPromises);
    }

    /// <summary>Slots some node applied, with the command (null: no-op) and the first node that did.</summary>
    public IReadOnlyDictionary<long, (NodeId Node, byte[]? Command)> Decided => _decided;

    /// <summary>Slots a durable majority accepted one command for.</summary>
    public int ChosenCount => _chosen.Count;

    /// <summary>Highest slot applied anywhere.</summary>
    public long LastDecided => _decided.Count == 0 ? 0 : _decided.Keys.Max();

    /// <summary>
    /// A node applies a decided slot (its Ready's writes are durable by then, so this is what it may reveal): every node
    /// must apply the same command at a slot, and the one a durable majority accepted.
    /// </summary>
    internal void OnApplied(NodeId node, long slot, byte[]? command)
    {
        if (_decided.TryGetValue(slot, out var first))
        {
            if (!PaxosCommands.Same(first.Command, command))
                _violations.Add($"slot {slot}: node {first.Node} applied {PaxosCommands.Describe(first.Command)}, node {node} {PaxosCommands.Describe(command)}");
        }
        else _decided[slot] = (node, command);
        ScanJournals();
        if (_chosen.TryGetValue(slot, out var chosen) && !PaxosCommands.Same(chosen, command))
            _violations.Add($"node {node} applied {PaxosCommands.Describe(command)} at slot {slot}, a majority chose {PaxosCommands.Describe(chosen)}");
    }

    private void OnTrace(SimTraceEvent e)
    {
        if (e.Kind != SimTraceKind.Sent) return;
        var ballot = e.Detail switch
        {
            Promise p => p.Ballot,
            Accepted a => a.Ballot,
            _ => Ballot.Zero,
        };
        if (ballot.IsZero) return;
        if (!_revealed.TryGetValue(e.Node, out var had) || ballot > had) _revealed[e.Node] = ballot;
    }

    private void ScanJournals()
    {
        foreach (var id in _ids)
        {
            var log = _sim.Storage(id).Log<object>(ProtocolSimNode.JournalName);
            var from = _journalRead.GetValueOrDefault(id);
            if (log.NextIndex <= from) continue;
            foreach (var record in log.ReadFrom(from))
            {
                if (record is not AcceptedRecord a) continue;
                for (var i = 0; i < a.Commands.Length; i++) OnDurableAcceptance(id, a.FirstSlot + i, a.Ballot, a.Commands[i]);
            }
            _journalRead[id] = log.NextIndex;
        }
    }

    private void OnDurableAcceptance(NodeId node, long slot, Ballot ballot, byte[]? command)
    {
        if (!_acceptances.TryGetValue((slot, ballot), out var acceptance)) _acceptances[(slot, ballot)] = acceptance = (command, []);
        if (!PaxosCommands.Same(acceptance.Command, command)) _violations.Add($"slot {slot}: ballot {ballot} carried two commands");
        acceptance.Nodes.Add(node);
        if (acceptance.Nodes.Count < _majority) return;
        if (_chosen.TryGetValue(slot, out var chosen))
        {
            if (!PaxosCommands.Same(chosen, command)) _violations.Add($"slot {slot}: {PaxosCommands.Describe(chosen)} chosen, then {PaxosCommands.Describe(command)} at {ballot}");
        }
        else _chosen[slot] = command;
        if (_decided.TryGetValue(slot, out var decided) && !PaxosCommands.Same(decided.Command, command))
            _violations.Add($"slot {slot}: node {decided.Node} decided {PaxosCommands.Describe(decided.Command)}, a majority chose {PaxosCommands.Describe(command)}");
    }

    private string? CheckPromises()
    {
        foreach (var (node, ballot) in _revealed)
        {
            if (_core(node) is not { } core) continue;
            if (core.Promised < ballot) return $"node {node}: promised {core.Promised}, below {ballot} it revealed before (a broken promise)";
        }
        return null;
    }
}

using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Tests.Paxos;

/// <summary>
/// Cores wired by an in-memory network a test steers: each Ready is executed in the host's order (its writes kept as
/// the node's journal), its messages queued; <see cref="Deliver"/> hands queued messages over, those the filter passes.
/// </summary>
internal sealed class PaxosTestNet<TCore, TMessage>
    where TCore : IProtocolCore<TMessage, ProtocolReady<TMessage>>
    where TMessage : notnull
{
    private readonly Dictionary<NodeId, TCore> _cores = [];

    public PaxosTestNet(IEnumerable<NodeId> ids, Func<NodeId, IReadOnlyList<object>, TCore> create)
    {
        Create = create;
        foreach (var id in ids)
        {
            Journals[id] = [];
            _cores[id] = create(id, []);
        }
    }

    public Func<NodeId, IReadOnlyList<object>, TCore> Create { get; }
    public Dictionary<NodeId, List<object>> Journals { get; } = [];
    public List<(NodeId From, NodeId To, TMessage Message)> InFlight { get; } = [];
    public List<(NodeId Node, object Answer)> Answers { get; } = [];
    public List<(NodeId Node, object Entry)> Applies { get; } = [];
    public List<(NodeId From, NodeId To, TMessage Message)> Sent { get; } = [];

    public TCore this[int id] => _cores[new NodeId(id)];
    public TCore this[NodeId id] => _cores[id];

    /// <summary>Executes every node's Readies: writes to its journal, messages onto the wire.</summary>
    public void Flush()
    {
        foreach (var (id, core) in _cores.OrderBy(kv => kv.Key))
        {
            while (core.HasReady)
            {
                var ready = core.TakeReady();
                foreach (var m in ready.MessagesBeforePersist) Queue(id, m);
                Journals[id].AddRange(ready.Writes);
                foreach (var m in ready.MessagesAfterPersist) Queue(id, m);
                Applies.AddRange(ready.Applies.Select(a => (id, a)));
                Answers.AddRange(ready.Answers.Select(a => (id, a)));
                core.Advance(ready);
            }
        }
    }

    private void Queue(NodeId from, Outgoing<TMessage> m)
    {
        InFlight.Add((from, m.To, m.Message));
        Sent.Add((from, m.To, m.Message));
    }

    /// <summary>Delivers queued messages (those <paramref name="pass"/> accepts; the others are dropped) until none is left, at most <paramref name="rounds"/> rounds.</summary>
    public void Deliver(Func<NodeId, NodeId, TMessage, bool>? pass = null, long nowMs = 0, int rounds = 100)
    {
        Flush();
        for (var round = 0; round < rounds && InFlight.Count > 0; round++)
        {
            var batch = InFlight.ToList();
            InFlight.Clear();
            foreach (var (from, to, message) in batch)
                if (pass?.Invoke(from, to, message) ?? true) _cores[to].Step(message, nowMs);
            Flush();
        }
    }

    /// <summary>Drops every queued message.</summary>
    public void DropAll() => InFlight.Clear();

    /// <summary>Rebuilds a node from its journal alone (a crash: what was not written is lost).</summary>
    public TCore Restart(NodeId id)
    {
        InFlight.RemoveAll(m => m.To == id || m.From == id);
        return _cores[id] = Create(id, Journals[id]);
    }

    public void Tick(long nowMs)
    {
        foreach (var core in _cores.OrderBy(kv => kv.Key).Select(kv => kv.Value)) core.Tick(nowMs);
        Flush();
    }
}

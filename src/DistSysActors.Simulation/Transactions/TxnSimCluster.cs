using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Transactions;
using DistSysActors.Simulation.Protocol;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Simulation.Transactions;

using TxnSimNode = ProtocolSimNode<TxnNode, TxnMessage, ProtocolReady<TxnMessage>>;

/// <summary>
/// Transaction nodes (classic mode: each a coordinator and the participant owning its keys) on the simulator, with
/// asynchronous storage: a crash loses what was not durable and a restart rebuilds both roles from the journal alone.
/// Each core's invariants are checked after every event.
/// </summary>
public sealed class TxnSimCluster
{
    private long _nextRequest;

    public TxnSimCluster(SimulatorOptions options, int size, TxnConfig config)
    {
        Sim = new Simulator<TxnMessage>(options);
        Ids = [.. Enumerable.Range(1, size).Select(i => new NodeId(i))];
        Config = config;
        Partitioner = new TxnPartitioner(Ids);
        var nodeOptions = new ProtocolSimOptions<TxnNode> { AsyncStorage = true, OnAnswer = OnAnswer };
        Sim.AddNodes(Ids, (id, storage) => new TxnSimNode(new TxnNode(id, Ids, config, storage.Log<object>(ProtocolSimNode.JournalName).ReadAll()), nodeOptions));
    }

    public Simulator<TxnMessage> Sim { get; }
    public ImmutableArray<NodeId> Ids { get; }
    public TxnConfig Config { get; }
    public TxnPartitioner Partitioner { get; }

    /// <summary>Client answers by request id (a coordinator crash may lose one: the client then never hears).</summary>
    public Dictionary<long, TxnAnswer> Answers { get; } = [];

    /// <summary>Every transaction started: request id, coordinator, id (an id may be reused if its BEGIN was lost to a crash).</summary>
    public List<(long Request, NodeId Coordinator, TxnId Id)> Started { get; } = [];

    public TxnNode? Core(NodeId id) => Sim.Node<TxnSimNode>(id)?.Core;

    public TxnNode Core(int id) => Core(new NodeId(id)) ?? throw new InvalidOperationException($"node {id} is down");

    /// <summary>Starts a transaction at <paramref name="coordinator"/> now; null if that node is down.</summary>
    public (long Request, TxnId Id)? Begin(NodeId coordinator, TxnProtocol protocol, params TxnOp[] ops)
    {
        var request = ++_nextRequest;
        TxnId? id = null;
        if (!Sim.Invoke<TxnSimNode>(coordinator, (n, ctx) => n.Invoke(ctx, (core, now) => id = core.Coordinator.Begin(request, protocol, ops, now)))) return null;
        Started.Add((request, coordinator, id!.Value));
        return (request, id.Value);
    }

    public TxnAnswer? AnswerOf(long request) => Answers.GetValueOrDefault(request);

    /// <summary>The committed value of <paramref name="key"/> at its owner (which must be up).</summary>
    public string? Value(string key) => Core(Partitioner.OwnerOf(key))?.Participant.Read(key);

    /// <summary>A key owned by node <paramref name="node"/>.</summary>
    public string KeyOn(int node, string prefix)
    {
        for (var i = 0; ; i++)
            if (Partitioner.OwnerOf($"{prefix}{i}") == new NodeId(node)) return $"{prefix}{i}";
    }

    public IReadOnlyList<object> Journal(NodeId id) => Sim.Storage(id).Log<object>(ProtocolSimNode.JournalName).ReadAll();

    /// <summary>Every node up, no participant in doubt, no coordinator with an unfinished transaction, no write on its way to disk.</summary>
    public bool Settled() => Ids.All(id => Core(id) is { } c && c.Coordinator.RunningCount == 0 && c.Participant.InDoubtTransactions(Sim.NowMs).Count == 0
        && Sim.WritesInFlight(id) == 0 && !c.HasReady);

    /// <summary>Runs <paramref name="action"/> the first time a message matching <paramref name="match"/> is delivered.</summary>
    public void OnFirstDelivery(Func<NodeId, TxnMessage, bool> match, Action action)
    {
        var done = false;
        var previous = Sim.TraceListener;
        Sim.TraceListener = e =>
        {
            previous?.Invoke(e);
            if (done || e.Kind != SimTraceKind.Delivered || e.Detail is not TxnMessage m || !match(e.Node, m)) return;
            done = true;
            Sim.Schedule(Sim.NowMs, action, "on delivery");
        };
    }

    private void OnAnswer(NodeId node, object answer)
    {
        if (answer is TxnAnswer a) Answers[a.RequestId] = a;
    }
}

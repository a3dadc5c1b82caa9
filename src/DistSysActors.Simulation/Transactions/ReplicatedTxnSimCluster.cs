using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;
using DistSysActors.Core.Transactions;
using DistSysActors.Core.Transactions.Replicated;
using DistSysActors.Simulation.Protocol;
using static DistSysActors.Core.Transactions.Replicated.ReplTxn;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Simulation.Transactions;

using ReplSimNode = ProtocolSimNode<ReplicatedTxnNode, ReplTxn.ReplTxnMessage, ProtocolReady<ReplTxn.ReplTxnMessage>>;

/// <summary>
/// Replicated mode on the simulator: every node a replica of the coordinating group and of every shard, Raft's writes
/// on asynchronous simulated disks (a crash loses what was not durable; a restart rebuilds every replica from the
/// node's journal alone). Records travel in Raft entries by reference (<see cref="ReferenceCodec"/>).
/// </summary>
public sealed class ReplicatedTxnSimCluster
{
    private long _nextRequest;

    /// <param name="checkQuorum">Raft's CheckQuorum in every group; off, a leader cut off from its group keeps believing it leads.</param>
    public ReplicatedTxnSimCluster(SimulatorOptions options, int nodes, int shards, TxnConfig config, int raftTickMs = 10, bool checkQuorum = true)
    {
        Sim = new Simulator<ReplTxnMessage>(options);
        Ids = [.. Enumerable.Range(1, nodes).Select(i => new NodeId(i))];
        Groups = new TxnGroups(shards);
        var codec = new ReferenceCodec();
        var nodeOptions = new ProtocolSimOptions<ReplicatedTxnNode> { AsyncStorage = true, OnAnswer = OnAnswer };
        RaftConfig RaftConfig(NodeId _) => new() { Id = Ids[0], Voters = Ids, TickMs = raftTickMs, ElectionTicks = 10, CheckQuorum = checkQuorum };
        Sim.AddNodes(Ids, (id, storage) => new ReplSimNode(
            new ReplicatedTxnNode(id, Ids, shards, codec, options.Seed, config, RaftConfig, storage.Log<object>(ProtocolSimNode.JournalName).ReadAll()), nodeOptions));
    }

    public Simulator<ReplTxnMessage> Sim { get; }
    public ImmutableArray<NodeId> Ids { get; }
    public TxnGroups Groups { get; }

    /// <summary>Every answer a node gave its client, by request id: BEGIN durable, then the outcome (or a refusal).</summary>
    public Dictionary<long, List<ReplAnswer>> Answers { get; } = [];

    /// <summary>Requests taken: request id and the node that took it.</summary>
    public List<(long Request, NodeId At)> Started { get; } = [];

    public ReplicatedTxnNode? Core(NodeId id) => Sim.Node<ReplSimNode>(id)?.Core;

    /// <summary>Takes a transaction at <paramref name="at"/>; null if that node is down.</summary>
    public long? Begin(NodeId at, TxnProtocol protocol, params TxnOp[] ops)
    {
        var request = ++_nextRequest;
        if (!Sim.Invoke<ReplSimNode>(at, (n, ctx) => n.Invoke(ctx, (core, now) => core.Begin(request, protocol, ops, nowMs: now)))) return null;
        Started.Add((request, at));
        return request;
    }

    /// <summary>Reads <paramref name="key"/> at <paramref name="at"/> (<see cref="ReplicatedTxnNode.ReadKey"/>); null if that node is down.</summary>
    public long? ReadKey(NodeId at, string key)
    {
        var request = ++_nextRequest;
        return Sim.Invoke<ReplSimNode>(at, (n, ctx) => n.Invoke(ctx, (core, now) => core.ReadKey(request, key, now))) ? request : null;
    }

    /// <summary>Reads transaction <paramref name="id"/> at <paramref name="at"/> (<see cref="ReplicatedTxnNode.ReadView"/>); null if that node is down.</summary>
    public long? ReadView(NodeId at, TxnId id)
    {
        var request = ++_nextRequest;
        return Sim.Invoke<ReplSimNode>(at, (n, ctx) => n.Invoke(ctx, (core, now) => core.ReadView(request, id, now))) ? request : null;
    }

    /// <summary>The answer to a view read, once there is one.</summary>
    public ViewRead? ViewReadOf(long request) => Answers.GetValueOrDefault(request)?.OfType<ViewRead>().FirstOrDefault();

    /// <summary>The answer to a read, once there is one.</summary>
    public KeyRead? KeyReadOf(long request) => Answers.GetValueOrDefault(request)?.OfType<KeyRead>().FirstOrDefault();

    public TxnAnswer? OutcomeOf(long request) => Answers.GetValueOrDefault(request)?.OfType<Outcome>().FirstOrDefault()?.Answer;

    public TxnId? IdOf(long request) => Answers.GetValueOrDefault(request)?.OfType<BeginDurable>().FirstOrDefault()?.Id;

    /// <summary>The node acting for <paramref name="group"/> (leading it, caught up), or null.</summary>
    public NodeId? ActingFor(NodeId group) => Ids.Where(id => Core(id)?.Acts(group) == true).Cast<NodeId?>().FirstOrDefault();

    /// <summary>The committed records of <paramref name="group"/>, from the up replica that applied the most.</summary>
    public IReadOnlyList<object> CommittedRecords(NodeId group) =>
        Ids.Select(Core).Where(c => c is not null).OrderByDescending(c => c!.AppliedIndex(group)).First()!.CommittedRecords(group);

    /// <summary>The value of <paramref name="key"/> at the node acting for its shard, or null if none acts.</summary>
    public string? Value(string key)
    {
        var shard = Groups.Partitioner.OwnerOf(key);
        return ActingFor(shard) is { } node ? Core(node)!.Participant(shard).Read(key) : null;
    }

    /// <summary>A key of shard <paramref name="shard"/> (1-based).</summary>
    public string KeyOn(int shard, string prefix)
    {
        for (var i = 0; ; i++)
            if (Groups.Partitioner.OwnerOf($"{prefix}{i}") == TxnGroups.Shard(shard)) return $"{prefix}{i}";
    }

    /// <summary>Every group acted for and idle there (nothing waiting for a commit), no transaction running or in doubt at its acting node, no write on its way to disk.</summary>
    public bool Settled()
    {
        foreach (var group in Groups.All)
        {
            if (ActingFor(group) is not { } node) return false;
            var core = Core(node)!;
            if (!core.Idle(group)) return false;
            if (group == TxnGroups.Coordinator ? core.Coordinator.RunningCount > 0 : core.Participant(group).InDoubtTransactions(Sim.NowMs).Count > 0) return false;
        }
        return Ids.All(id => !Sim.IsUp(id) || (Sim.WritesInFlight(id) == 0 && !Core(id)!.HasReady));
    }

    /// <summary>Runs <paramref name="action"/> the first time a transaction message matching <paramref name="match"/> is delivered (to the node, for the group).</summary>
    public void OnFirstDelivery(Func<NodeId, NodeId, TxnMessage, bool> match, Action action)
    {
        var done = false;
        var previous = Sim.TraceListener;
        Sim.TraceListener = e =>
        {
            previous?.Invoke(e);
            if (done || e.Kind != SimTraceKind.Delivered || e.Detail is not TxnEnvelope env || !match(e.Node, env.ToGroup, env.Message)) return;
            done = true;
            Sim.Schedule(Sim.NowMs, action, "on delivery");
        };
    }

    private void OnAnswer(NodeId node, object answer)
    {
        if (answer is not ReplAnswer a) return;
        if (!Answers.TryGetValue(a.RequestId, out var list)) Answers[a.RequestId] = list = [];
        list.Add(a);
    }

    /// <summary>Keeps each entry's records in memory and puts only their handle in the entry: the simulator never leaves the process.</summary>
    public sealed class ReferenceCodec : ITxnRecordCodec
    {
        private readonly List<IReadOnlyList<object>> _entries = [];

        public byte[] Encode(IReadOnlyList<object> records)
        {
            _entries.Add([.. records]);
            return BitConverter.GetBytes(_entries.Count - 1);
        }

        public IReadOnlyList<object> Decode(byte[] data) => _entries[BitConverter.ToInt32(data)];
    }
}

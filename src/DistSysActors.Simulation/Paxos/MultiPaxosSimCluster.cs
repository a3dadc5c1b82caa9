using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.KeyValue;
using DistSysActors.Core.Paxos;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;
using DistSysActors.Simulation.Protocol;
using DistSysActors.Simulation.Raft;

namespace DistSysActors.Simulation.Paxos;

using PaxosSimNode = ProtocolSimNode<MultiPaxosNode, MultiPaxos.Message, ProtocolReady<MultiPaxos.Message>>;

/// <summary>
/// The replicated key-value store on Multi-Paxos in the simulator: one <see cref="MultiPaxosNode"/> per node on
/// <see cref="ProtocolSimNode"/> with asynchronous storage, a <see cref="KeyValueStore"/> per node fed by its decided
/// slots (rebuilt on restart from the persisted snapshot, then the slots it learns again), optional snapshots every
/// <see cref="SnapshotEverySlots"/> applied slots, and <see cref="MultiPaxosChecker"/>'s invariants after every event.
/// Clients (<see cref="RaftKvWorkload"/>) reach it through <see cref="IKvSimCluster"/>.
/// </summary>
public sealed class MultiPaxosSimCluster : IKvSimCluster
{
    private const int ClientRequestsWaitingMax = 10_000;
    private readonly Dictionary<NodeId, KvHost> _hosts = [];
    private readonly Func<MultiPaxosConfig, MultiPaxosConfig>? _configure;
    private long _nextRequestId;
    private long _nextNonce;

    public MultiPaxosSimCluster(SimulatorOptions options, int size, Func<MultiPaxosConfig, MultiPaxosConfig>? configure = null)
    {
        Sim = new Simulator<MultiPaxos.Message>(options);
        Ids = [.. Enumerable.Range(1, size).Select(i => new NodeId(i))];
        _configure = configure;
        Checker = new MultiPaxosChecker(Sim, Ids, Core);
        Sim.AddNodes(Ids, CreateNode);
    }

    public Simulator<MultiPaxos.Message> Sim { get; }
    public ImmutableArray<NodeId> Ids { get; }
    public MultiPaxosChecker Checker { get; }
    public long Seed => Sim.Seed;

    /// <summary>Applied slots between two snapshots of a node's state machine; 0: never.</summary>
    public int SnapshotEverySlots { get; init; }

    public Action<RaftClientReply>? ReplyListener { get; set; }

    public List<RaftClientReply> Replies { get; } = [];

    public MultiPaxosConfig ConfigFor(NodeId id)
    {
        var config = new MultiPaxosConfig { Id = id, Nodes = Ids };
        return _configure?.Invoke(config) ?? config;
    }

    public MultiPaxosNode? Core(NodeId id) => Sim.Node<PaxosSimNode>(id)?.Core;

    public KeyValueStore? Kv(NodeId id) => Sim.IsUp(id) && _hosts.TryGetValue(id, out var host) ? host.Kv : null;

    public int SnapshotsTaken(NodeId id) => _hosts.TryGetValue(id, out var host) ? host.SnapshotsTaken : 0;

    public NodeId? Leader() => Ids.Where(id => Core(id)?.IsLeader == true).Select(id => (NodeId?)id).LastOrDefault();

    /// <summary>Runs until one node leads and every live node follows it, or <paramref name="maxMs"/> pass.</summary>
    public NodeId? RunUntilLeader(long maxMs)
    {
        Sim.RunUntil(() => Leader() is { } l && Ids.Where(Sim.IsUp).All(id => Core(id)!.LeaderId == l), maxMs);
        return Leader();
    }

    private ISimNode<MultiPaxos.Message> CreateNode(NodeId id, SimStorage storage)
    {
        var core = new MultiPaxosNode(ConfigFor(id), Sim.ForkRandom(), null, storage.Log<object>(ProtocolSimNode.JournalName).ReadAll(), Sim.NowMs);
        var host = new KvHost();
        if (core.Snapshot is { } snapshot) host.Kv.Restore(snapshot.Data);
        _hosts[id] = host;
        return new PaxosSimNode(core, new ProtocolSimOptions<MultiPaxosNode>
        {
            AsyncStorage = true,
            OnApply = OnApply,
            OnAnswer = OnAnswer,
            AfterTick = (c, _) => MaybeSnapshot(c, host),
        });
    }

    private void MaybeSnapshot(MultiPaxosNode core, KvHost host)
    {
        if (SnapshotEverySlots <= 0) return;
        var applied = host.Kv.AppliedIndex;
        if (applied - core.CompactedThrough < SnapshotEverySlots) return;
        core.Compact(applied, host.Kv.Snapshot());
        host.SnapshotsTaken++;
    }

    private void OnApply(NodeId node, object entry)
    {
        var host = _hosts[node];
        switch (entry)
        {
            case MultiPaxos.InstallSnapshot install:
                host.Kv.Restore(install.Snapshot.Data);
                break;
            case MultiPaxos.Committed committed:
                Checker.OnApplied(node, committed.Slot, committed.Command);
                if (host.Kv.Apply(committed.Slot, committed.Command) is { } applied && host.Commands.Remove((applied.ClientId, applied.Sequence), out var requestId))
                    Reply(new RaftClientOk(node, requestId, applied.Result, null, applied.Index));
                break;
        }
    }

    private void OnAnswer(NodeId node, object answer)
    {
        var host = _hosts[node];
        switch (answer)
        {
            case MultiPaxos.ReadReady ready when host.Reads.Remove(ready.RequestId, out var key):
                Reply(new RaftClientOk(node, ready.RequestId, null, host.Kv.Get(key), ready.Slot));
                break;
            case MultiPaxos.ReadDropped dropped when host.Reads.Remove(dropped.RequestId):
                Reply(new RaftClientRejected(node, dropped.RequestId, Core(node)?.LeaderId));
                break;
        }
    }

    private void Reply(RaftClientReply reply)
    {
        Replies.Add(reply);
        ReplyListener?.Invoke(reply);
    }

    /// <summary>A client request at a node, handled as an event of its own (never inside another node's Ready).</summary>
    public void Submit(NodeId node, object request) => Sim.Schedule(Sim.NowMs, () =>
        Sim.Invoke<PaxosSimNode>(node, (n, ctx) => n.Invoke(ctx, (core, now) => Handle(node, core, request, now))), $"client request at {node}");

    private void Handle(NodeId node, MultiPaxosNode core, object request, long nowMs)
    {
        var host = _hosts[node];
        switch (request)
        {
            case RaftClientCommand c:
                if (host.Commands.Count >= ClientRequestsWaitingMax) { Reply(new RaftClientRejected(node, c.RequestId, core.LeaderId)); return; }
                var result = core.Propose(KvCodec.Encode(c.Command), nowMs);
                if (result.Status == MultiPaxos.ProposeStatus.Dropped) Reply(new RaftClientRejected(node, c.RequestId, result.LeaderId));
                else host.Commands[(c.Command.ClientId, c.Command.Sequence)] = c.RequestId;
                break;
            case RaftClientRead r when r.Stale:
                Reply(new RaftClientOk(node, r.RequestId, null, host.Kv.Get(r.Key), host.Kv.AppliedIndex));
                break;
            case RaftClientRead r:
                if (host.Reads.Count >= ClientRequestsWaitingMax) { Reply(new RaftClientRejected(node, r.RequestId, core.LeaderId)); return; }
                host.Reads[r.RequestId] = r.Key;
                core.ReadIndex(r.RequestId, r.Mode == ReadMode.Lease, nowMs);
                break;
        }
    }

    /// <summary>Proposes a command at a node now (outside the workload); returns what the core said.</summary>
    public MultiPaxos.ProposeResult? Propose(NodeId node, byte[] command)
    {
        MultiPaxos.ProposeResult? result = null;
        Sim.Invoke<PaxosSimNode>(node, (n, ctx) => n.Invoke(ctx, (core, now) => result = core.Propose(command, now)));
        return result;
    }

    public void Campaign(NodeId node) => Sim.Invoke<PaxosSimNode>(node, (n, ctx) => n.Invoke(ctx, (core, now) => core.Campaign(now)));

    long IKvSimCluster.NowMs => Sim.NowMs;
    IReadOnlyList<NodeId> IKvSimCluster.NodeIds => Ids;
    bool IKvSimCluster.IsServing(NodeId id) => Sim.IsUp(id);
    void IKvSimCluster.Schedule(long atMs, Action action, string label) => Sim.Schedule(atMs, action, label);
    DeterministicRandom IKvSimCluster.ForkRandom() => Sim.ForkRandom();
    public long NextRequestId() => ++_nextRequestId;
    public long NextNonce() => ++_nextNonce;

    /// <summary>A node's volatile host state: its state machine and the clients waiting on it (lost on a crash).</summary>
    private sealed class KvHost
    {
        public KeyValueStore Kv { get; } = new();
        public Dictionary<(long Client, long Sequence), long> Commands { get; } = [];
        public Dictionary<long, string> Reads { get; } = [];
        public int SnapshotsTaken { get; set; }
    }
}

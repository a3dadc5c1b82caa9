using System.Collections.Immutable;
using DistSysActors.Core.Raft;
using DistSysActors.Core.Raft.KeyValue;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>What a host would keep on disk for one node.</summary>
internal sealed class MemoryStorage
{
    public HardState HardState { get; private set; } = HardState.Empty;
    public List<LogEntry> Entries { get; } = [];

    public void Persist(Ready ready)
    {
        if (ready.HardState is not null) HardState = ready.HardState;
        if (ready.Entries.IsEmpty) return;
        var first = ready.Entries[0].Index;
        if (first <= Entries.Count) Entries.RemoveRange((int)(first - 1), Entries.Count - (int)(first - 1));
        if (first != Entries.Count + 1) throw new InvalidOperationException($"gap in persisted log: have {Entries.Count}, appending {first}");
        Entries.AddRange(ready.Entries);
    }

    public RaftPersistentState State => new(HardState, [.. Entries]);
}

/// <summary>
/// A synchronous in-memory cluster for core tests: each node's Ready is executed as a host would
/// (persist, send, apply, advance) and messages are delivered in FIFO order unless a link is cut.
/// </summary>
internal sealed class RaftTestCluster
{
    public SortedDictionary<NodeId, RaftNode> Nodes { get; } = [];
    public Dictionary<NodeId, MemoryStorage> Storage { get; } = [];
    public Dictionary<NodeId, List<LogEntry>> Applied { get; } = [];
    public Dictionary<NodeId, KeyValueStore> Kv { get; } = [];
    public Dictionary<NodeId, List<ReadState>> Reads { get; } = [];
    public Dictionary<NodeId, List<long>> ReadsDropped { get; } = [];
    public Dictionary<NodeId, List<KvApplied>> KvResults { get; } = [];
    public List<RaftMessage> Sent { get; } = [];
    public HashSet<NodeId> Isolated { get; } = [];
    public HashSet<NodeId> Down { get; } = [];
    /// <summary>Extra filter: return false to drop a message.</summary>
    public Func<RaftMessage, bool> Deliverable { get; set; } = _ => true;

    private readonly Queue<RaftMessage> _inFlight = new();
    private readonly Func<NodeId, RaftConfig> _configFor;
    private readonly long _seed;

    public RaftTestCluster(int size, long seed = 1, Func<RaftConfig, RaftConfig>? configure = null)
    {
        _seed = seed;
        var voters = Enumerable.Range(1, size).Select(i => new NodeId(i)).ToImmutableArray();
        _configFor = id =>
        {
            var c = new RaftConfig { Id = id, Voters = voters };
            return configure is null ? c : configure(c);
        };
        foreach (var id in voters)
        {
            Storage[id] = new MemoryStorage();
            Start(id);
        }
    }

    public RaftNode this[int id] => Nodes[new NodeId(id)];

    public static NodeId N(int id) => new(id);

    private void Start(NodeId id)
    {
        Nodes[id] = new RaftNode(_configFor(id), new DeterministicRandom(_seed * 1_000 + id.Value), Storage[id].State);
        Applied[id] = [];
        Kv[id] = new KeyValueStore();
        Reads[id] = [];
        ReadsDropped[id] = [];
        KvResults[id] = [];
    }

    /// <summary>Crash: volatile state is lost; the node comes back from its storage.</summary>
    public void Restart(int id)
    {
        var nid = N(id);
        _inFlightFilter(nid);
        Start(nid);
    }

    private void _inFlightFilter(NodeId id)
    {
        var keep = _inFlight.Where(m => m.To != id && m.From != id).ToList();
        _inFlight.Clear();
        foreach (var m in keep) _inFlight.Enqueue(m);
    }

    /// <summary>Executes one node's Ready, as a host would; returns it (or null).</summary>
    public Ready? Process(NodeId id)
    {
        var node = Nodes[id];
        if (!node.HasReady) return null;
        var ready = node.TakeReady();
        foreach (var m in ready.MessagesBeforePersist) Send(m);
        Storage[id].Persist(ready);
        foreach (var m in ready.Messages) Send(m);
        foreach (var e in ready.CommittedEntries)
        {
            Applied[id].Add(e);
            if (Kv[id].Apply(e) is { } result) KvResults[id].Add(result);
        }
        Reads[id].AddRange(ready.ReadStates);
        ReadsDropped[id].AddRange(ready.ReadsDropped);
        node.Advance(ready);
        return ready;
    }

    private void Send(RaftMessage m)
    {
        Sent.Add(m);
        _inFlight.Enqueue(m);
    }

    private bool Connected(RaftMessage m) =>
        !Isolated.Contains(m.From) && !Isolated.Contains(m.To) && !Down.Contains(m.To) && !Down.Contains(m.From) && Deliverable(m);

    /// <summary>Runs Readies and deliveries until nothing is left to do.</summary>
    public void Stabilize(int stepsMax = 100_000)
    {
        for (var step = 0; step < stepsMax; step++)
        {
            var progressed = false;
            foreach (var id in Nodes.Keys)
                if (!Down.Contains(id) && Process(id) is not null) progressed = true;
            if (_inFlight.Count > 0)
            {
                var m = _inFlight.Dequeue();
                if (Connected(m)) Nodes[m.To].Step(m);
                progressed = true;
            }
            if (!progressed) return;
        }
        throw new InvalidOperationException("cluster did not stabilize");
    }

    public void Tick(int id, int times = 1)
    {
        for (var i = 0; i < times; i++) { Nodes[N(id)].Tick(); Stabilize(); }
    }

    /// <summary>Ticks every live node once per round, stabilizing in between.</summary>
    public void TickAll(int rounds = 1)
    {
        for (var r = 0; r < rounds; r++)
        {
            foreach (var (id, node) in Nodes)
                if (!Down.Contains(id)) node.Tick();
            Stabilize();
        }
    }

    public void Elect(int id)
    {
        Nodes[N(id)].Campaign();
        Stabilize();
        if (Nodes[N(id)].Role != RaftRole.Leader) throw new InvalidOperationException($"node {id} failed to win: {Nodes[N(id)]}");
    }

    public ProposeResult Put(int via, long client, long seq, string key, string value)
    {
        var result = Nodes[N(via)].Propose(KvCodec.Encode(new KvPut(client, seq, key, value)));
        Stabilize();
        return result;
    }

    public static byte[] Data(string s) => System.Text.Encoding.UTF8.GetBytes(s);
}

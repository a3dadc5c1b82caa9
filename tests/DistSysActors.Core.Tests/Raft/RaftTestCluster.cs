using System.Collections.Immutable;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>What a host would keep on disk for one node: hard state, latest snapshot, entries after it.</summary>
internal sealed class MemoryStorage
{
    public HardState HardState { get; private set; } = HardState.Empty;
    public RaftSnapshot? Snapshot { get; private set; }
    public List<LogEntry> Entries { get; } = [];

    private long Offset => Snapshot?.Meta.Index ?? 0;

    public void Persist(Ready ready)
    {
        if (ready.Snapshot is not null)
        {
            Snapshot = ready.Snapshot;
            Entries.Clear(); // the Ready's contract: a snapshot replaces the whole stored log
        }
        if (ready.HardState is not null) HardState = ready.HardState;
        if (ready.Entries.IsEmpty) return;
        var first = ready.Entries[0].Index;
        var keep = (int)(first - Offset - 1);
        if (keep < 0) throw new InvalidOperationException($"entry {first} is covered by the stored snapshot at {Offset}");
        if (keep < Entries.Count) Entries.RemoveRange(keep, Entries.Count - keep);
        if (keep != Entries.Count) throw new InvalidOperationException($"gap in persisted log: have through {Offset + Entries.Count}, appending {first}");
        Entries.AddRange(ready.Entries);
    }

    /// <summary>The host's side of Compact: keep the snapshot, drop the entries it covers.</summary>
    public void SaveSnapshot(RaftSnapshot snapshot)
    {
        var drop = (int)Math.Min(Entries.Count, snapshot.Meta.Index - Offset);
        Entries.RemoveRange(0, drop);
        Snapshot = snapshot;
    }

    public RaftPersistentState State => new(HardState, [.. Entries], Snapshot);
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
    private readonly HashSet<NodeId> _joining = [];
    private readonly HashSet<NodeId> _withoutKv = [];
    private readonly long _seed;

    public RaftTestCluster(int size, long seed = 1, Func<RaftConfig, RaftConfig>? configure = null)
    {
        _seed = seed;
        var voters = Enumerable.Range(1, size).Select(i => new NodeId(i)).ToImmutableArray();
        _configFor = id =>
        {
            // The paper's compaction (no margin) and one snapshot chunk at a time, unless a test configures otherwise.
            var c = new RaftConfig { Id = id, Voters = voters, CompactionMarginEntries = 0, SnapshotChunksInflightMax = 1 };
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
        var config = _configFor(id);
        if (_joining.Contains(id)) config = config with { Voters = [] };
        Nodes[id] = new RaftNode(config, new DeterministicRandom(_seed * 1_000 + id.Value), Storage[id].State);
        Applied[id] = Storage[id].Snapshot is { } snapshot ? DecodeApplied(snapshot.Data) : [];
        if (Storage[id].Snapshot is not null) _withoutKv.Add(id);
        Kv[id] = new KeyValueStore();
        Reads[id] = [];
        ReadsDropped[id] = [];
        KvResults[id] = [];
    }

    /// <summary>A fresh node with no voters configured, waiting to be added by a membership change.</summary>
    public RaftNode AddJoiningNode(int id)
    {
        var nid = N(id);
        _joining.Add(nid);
        Storage[nid] = new MemoryStorage();
        Start(nid);
        return Nodes[nid];
    }

    /// <summary>The host takes a snapshot of its state machine at the applied index and compacts the log.</summary>
    public RaftSnapshot TakeSnapshot(int id)
    {
        var nid = N(id);
        var node = Nodes[nid];
        var snapshot = new RaftSnapshot(node.SnapshotMetaAt(node.AppliedIndex), EncodeApplied(Applied[nid]));
        Storage[nid].SaveSnapshot(snapshot);
        node.Compact(snapshot);
        return snapshot;
    }

    /// <summary>The test state machine is the list of applied entries; its snapshot is that list, encoded.</summary>
    public static byte[] EncodeApplied(IReadOnlyList<LogEntry> applied)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write(applied.Count);
        foreach (var e in applied)
        {
            w.Write(e.Index);
            w.Write(e.Term);
            w.Write((int)e.Type);
            w.Write(e.Data.Length);
            w.Write(e.Data);
        }
        w.Flush();
        return ms.ToArray();
    }

    public static List<LogEntry> DecodeApplied(byte[] data)
    {
        using var r = new BinaryReader(new MemoryStream(data));
        var n = r.ReadInt32();
        var list = new List<LogEntry>(n);
        for (var i = 0; i < n; i++)
        {
            var index = r.ReadInt64();
            var term = r.ReadInt64();
            var type = (EntryType)r.ReadInt32();
            list.Add(new LogEntry(index, term, type, r.ReadBytes(r.ReadInt32())));
        }
        return list;
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
        if (ready.Snapshot is not null)
        {
            Applied[id] = DecodeApplied(ready.Snapshot.Data);
            _withoutKv.Add(id); // the key-value store is not part of the test snapshot
        }
        foreach (var e in ready.CommittedEntries)
        {
            Applied[id].Add(e);
            if (!_withoutKv.Contains(id) && Kv[id].Apply(e) is { } result) KvResults[id].Add(result);
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
                if (Connected(m) && Nodes.TryGetValue(m.To, out var to)) to.Step(m);
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
            foreach (var (id, node) in Nodes.ToList())
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

    /// <summary>
    /// Registers a key-value client through <paramref name="via"/> and returns its id (the index of the registering
    /// entry), once the entry is committed. A put of an unregistered client is replicated like any entry but applied
    /// as SessionExpired (no effect on the store), which is all most Raft tests need.
    /// </summary>
    public long Register(int via)
    {
        var nonce = ++_nonce;
        Nodes[N(via)].Propose(KvCodec.Encode(new KvRegister(nonce)));
        Stabilize();
        var leader = Nodes.Values.Single(n => n.Role == RaftRole.Leader);
        var entry = leader.Log.Single(e => e.Type == EntryType.Normal && KvCodec.Decode(e.Data) is KvRegister r && r.Nonce == nonce);
        if (entry.Index > leader.CommitIndex) throw new InvalidOperationException($"the registration at {entry.Index} did not commit: {leader}");
        return entry.Index;
    }

    private long _nonce = 1_000_000;

    public ProposeResult Put(int via, long client, long seq, string key, string value)
    {
        var result = Nodes[N(via)].Propose(KvCodec.Encode(new KvPut(client, seq, key, value)));
        Stabilize();
        return result;
    }

    public static byte[] Data(string s) => System.Text.Encoding.UTF8.GetBytes(s);
}

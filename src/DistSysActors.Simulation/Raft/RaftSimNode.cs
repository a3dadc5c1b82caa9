using System.Collections;
using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Simulation.Raft;

/// <summary>A client asking a node to run a key-value command (answered when its session's result is applied).</summary>
public sealed record RaftClientCommand(long RequestId, KvCommand Command);

/// <summary>A client asking a node to read a key: linearizable (ReadIndex or lease) or stale (local state, no check).</summary>
public sealed record RaftClientRead(long RequestId, string Key, ReadMode Mode, bool Stale = false);

/// <summary>How a node answered a client request.</summary>
public abstract record RaftClientReply(NodeId Node, long RequestId);

/// <summary>The command was applied (Result) or the read served (Value), at log index Index.</summary>
public sealed record RaftClientOk(NodeId Node, long RequestId, KvResult? Result, string? Value, long Index) : RaftClientReply(Node, RequestId);

/// <summary>The node could not take the request (no leader, limits, leadership lost); nothing is known about its outcome for commands that were forwarded.</summary>
public sealed record RaftClientRejected(NodeId Node, long RequestId, NodeId? LeaderHint) : RaftClientReply(Node, RequestId);

/// <summary>
/// Hosts one <see cref="RaftNode"/> on the simulator exactly as a production host would: every Ready is executed
/// persist -> send -> apply/reply -> advance through <see cref="ReadyExecutor"/>, term/vote/commit, the snapshot and the log after it go to
/// <see cref="SimStorage"/>, and a restart rebuilds the node and its key-value state machine (from the snapshot, then
/// the committed entries after it) from that storage alone. With <see cref="RaftSimCluster.SnapshotEntries"/> set, the
/// host snapshots its state machine and compacts the log once it holds more entries than that.
/// </summary>
/// <remarks>
/// Storage layout: log position p holds the entry with index p + 1, so after a snapshot at index S the log's first
/// position is S (<see cref="SimLog{T}.RemoveBefore"/> keeps positions stable) and position S holds index S + 1.
/// </remarks>
public sealed class RaftSimNode : ISimNode<object>
{
    public const string HardStateKey = "raft.hard-state";
    public const string SnapshotKey = "raft.snapshot";
    public const string LogName = "raft.log";

    private readonly RaftSimCluster _cluster;
    private readonly SimStorage _storage;
    private readonly SimLog<LogEntry> _log;
    private readonly Dictionary<(long Client, long Sequence), long> _commandsWaiting = [];
    private readonly Dictionary<long, string> _readsWaiting = [];
    private readonly SimEnvironment _environment;
    private LateWriteEnvironment? _lateWrites;
    private double _tickCredit;
    private const int ClientRequestsWaitingMax = 10_000;

    public RaftSimNode(NodeId id, SimStorage storage, RaftSimCluster cluster)
    {
        Id = id;
        _storage = storage;
        _cluster = cluster;
        _log = storage.Log<LogEntry>(LogName);
        _environment = new SimEnvironment(this);
    }

    public NodeId Id { get; }
    public RaftNode? Raft { get; private set; }
    public KeyValueStore Kv { get; } = new();

    /// <summary>The persisted log entries after the persisted snapshot (the first holds index snapshot + 1), without copying.</summary>
    public static IReadOnlyList<LogEntry> PersistedLog(SimStorage storage) => new SimLogView(storage.Log<LogEntry>(LogName));

    /// <summary>The snapshot on the node's disk, if any.</summary>
    public static RaftSnapshot? PersistedSnapshot(SimStorage storage) => storage.TryGet<RaftSnapshot>(SnapshotKey, out var s) ? s : null;

    /// <summary>Log entries held on this node's disk (after its snapshot).</summary>
    public int PersistedEntryCount => _log.Count;

    public void Start(ISimContext<object> ctx)
    {
        EnsureStarted(ctx);
        Drain(ctx); // entries committed before the crash are applied again at once, leader or not
    }

    private RaftNode EnsureStarted(ISimContext<object> ctx)
    {
        if (Raft is not null) return Raft;
        var snapshot = PersistedSnapshot(_storage);
        var from = snapshot?.Meta.Index ?? 0;
        if (_log.FirstIndex != from) throw new InvalidOperationException($"node {Id}: stored log starts at position {_log.FirstIndex}, snapshot at {from}");
        var persisted = new RaftPersistentState(_storage.Get(HardStateKey, HardState.Empty), [.. _log.ReadFrom(from)], snapshot);
        Raft = new RaftNode(_cluster.ConfigFor(Id), ctx.Random, persisted);
        if (snapshot is not null) Kv.Restore(snapshot.Data);
        _cluster.Checker.OnRestart(Id, Kv.AppliedIndex);
        return Raft;
    }

    /// <summary>The core's own per-node invariants (none while the node has not started).</summary>
    public IReadOnlyList<string> CheckInvariants() => Raft?.CheckInvariants() ?? [];

    /// <summary>A simulator tick becomes as many Raft ticks as this node's clock rate has accumulated (drift).</summary>
    public void Tick(ISimContext<object> ctx)
    {
        var raft = EnsureStarted(ctx);
        _tickCredit += _cluster.ClockRate(Id);
        while (_tickCredit >= 1)
        {
            _tickCredit -= 1;
            raft.Tick();
        }
        Drain(ctx);
    }

    /// <summary>Starts an election on this node now (tests use it to pick the leader).</summary>
    public void Campaign(ISimContext<object> ctx)
    {
        EnsureStarted(ctx).Campaign();
        Drain(ctx);
    }

    /// <summary>Proposes a membership change here (only a leader accepts it).</summary>
    public ProposeResult ProposeConfChange(ConfChange change, ISimContext<object> ctx)
    {
        var result = EnsureStarted(ctx).ProposeConfChange(change);
        Drain(ctx);
        return result;
    }

    /// <summary>Asks this node, if leader, to hand leadership to <paramref name="target"/>.</summary>
    public bool TransferLeadership(NodeId target, ISimContext<object> ctx)
    {
        var started = EnsureStarted(ctx).TransferLeadership(target);
        Drain(ctx);
        return started;
    }

    public void Receive(NodeId from, object msg, ISimContext<object> ctx)
    {
        var raft = EnsureStarted(ctx);
        switch (msg)
        {
            case RaftMessage m: raft.Step(m); break;
            case RaftClientCommand c: Submit(raft, c); break;
            case RaftClientRead r: Read(raft, r); break;
        }
        Drain(ctx);
    }

    private void Submit(RaftNode raft, RaftClientCommand c)
    {
        if (_commandsWaiting.Count >= ClientRequestsWaitingMax) { _cluster.Reply(new RaftClientRejected(Id, c.RequestId, raft.LeaderId)); return; }
        var result = raft.Propose(KvCodec.Encode(c.Command));
        if (result.Status == ProposeStatus.Dropped) { _cluster.Reply(new RaftClientRejected(Id, c.RequestId, result.LeaderId)); return; }
        _commandsWaiting[(c.Command.ClientId, c.Command.Sequence)] = c.RequestId;
    }

    private void Read(RaftNode raft, RaftClientRead r)
    {
        if (r.Stale) { _cluster.Reply(new RaftClientOk(Id, r.RequestId, null, Kv.Get(r.Key), Kv.AppliedIndex)); return; }
        if (_readsWaiting.Count >= ClientRequestsWaitingMax) { _cluster.Reply(new RaftClientRejected(Id, r.RequestId, raft.LeaderId)); return; }
        _readsWaiting[r.RequestId] = r.Key;
        raft.ReadIndex(r.RequestId, r.Mode);
    }

    private void Drain(ISimContext<object> ctx)
    {
        var raft = Raft!;
        _environment.Context = ctx;
        IReadyEnvironment<RaftMessage> environment = _cluster.BreakPersistBeforeSend ? _lateWrites ??= new LateWriteEnvironment(_environment) : _environment;
        while (raft.HasReady)
        {
            // A SimStorage write is durable on return, so each Ready is executed and advanced before Execute returns.
            ReadyExecutor.Execute(raft, raft.TakeReady(), environment);
            MaybeCompact(raft);
        }
    }

    private void Persist(RaftWrite write)
    {
        if (write.Snapshot is { } snapshot) PersistSnapshot(snapshot);
        if (write.HardState is not null) _storage.Put(HardStateKey, write.HardState);
        if (write.Entries.IsEmpty) return;
        var first = write.Entries[0].Index;
        if (first - 1 < _log.NextIndex) _log.TruncateFrom(first - 1);
        _log.AppendRange(write.Entries);
    }

    private void Apply(object entry)
    {
        switch (entry)
        {
            case RaftSnapshot installed:
                Kv.Restore(installed.Data);
                _cluster.OnSnapshot(Id, installed, installed: true);
                break;
            case LogEntry committed:
                _cluster.Checker.OnApplied(Id, committed);
                if (Kv.Apply(committed) is { } applied && _commandsWaiting.Remove((applied.ClientId, applied.Sequence), out var requestId))
                    _cluster.Reply(new RaftClientOk(Id, requestId, applied.Result, null, applied.Index));
                break;
        }
    }

    private void Answer(object answer)
    {
        switch (answer)
        {
            case ReadState read when _readsWaiting.Remove(read.RequestId, out var key):
                _cluster.Reply(new RaftClientOk(Id, read.RequestId, null, Kv.Get(key), read.Index));
                break;
            case ReadDropped dropped when _readsWaiting.Remove(dropped.RequestId):
                _cluster.Reply(new RaftClientRejected(Id, dropped.RequestId, Raft!.LeaderId));
                break;
        }
    }

    /// <summary>Executes this node's Readies on the simulator: sends to the simulated network, writes to <see cref="SimStorage"/>.</summary>
    private sealed class SimEnvironment(RaftSimNode node) : IReadyEnvironment<RaftMessage>
    {
        public ISimContext<object> Context { get; set; } = null!;

        public void Send(Outgoing<RaftMessage> outgoing) => Context.Send(outgoing.To, outgoing.Message);

        public void Persist(IReadOnlyList<object> writes, Action onDurable)
        {
            for (var i = 0; i < writes.Count; i++) node.Persist((RaftWrite)writes[i]);
            onDurable();
        }

        public void Apply(object entry) => node.Apply(entry);

        public void Answer(object answer) => node.Answer(answer);
    }

    /// <summary>
    /// Deliberately broken host (<see cref="RaftSimCluster.BreakPersistBeforeSend"/>): reports every write durable at once
    /// but hands it to the disk one Ready late, so a crash loses data the node already acknowledged.
    /// </summary>
    private sealed class LateWriteEnvironment(IReadyEnvironment<RaftMessage> inner) : IReadyEnvironment<RaftMessage>
    {
        private IReadOnlyList<object>? _held;

        public void Send(Outgoing<RaftMessage> outgoing) => inner.Send(outgoing);

        public void Persist(IReadOnlyList<object> writes, Action onDurable)
        {
            if (_held is not null) inner.Persist(_held, static () => { });
            _held = writes;
            onDurable();
        }

        public void Apply(object entry) => inner.Apply(entry);

        public void Answer(object answer) => inner.Answer(answer);
    }

    /// <summary>
    /// A snapshot installed from a leader replaces the whole stored log (the entries the node kept after it come again in
    /// the Ready's Entries, written next).
    /// </summary>
    private void PersistSnapshot(RaftSnapshot snapshot)
    {
        var index = snapshot.Meta.Index;
        if (index < _log.FirstIndex) throw new InvalidOperationException($"node {Id}: installing snapshot {index} below the stored one {_log.FirstIndex}");
        _storage.Put(SnapshotKey, snapshot);
        _log.Reset(index); // position p holds index p + 1
    }

    /// <summary>
    /// Compaction as a production host does it: once the log holds more than SnapshotEntries entries and the applied
    /// entries are stored, snapshot the state machine at its applied index, store the snapshot, drop the stored entries it covers, then let Raft compact.
    /// </summary>
    private void MaybeCompact(RaftNode raft)
    {
        var threshold = _cluster.SnapshotEntries;
        if (threshold <= 0 || Kv.AppliedIndex - (raft.Snapshot?.Meta.Index ?? 0) <= threshold || Kv.AppliedIndex < raft.FirstLogIndex) return;
        // Committed entries may be applied before this node's own write of them (they are durable on a majority); the
        // snapshot waits until the stored log reaches the applied index, as the actor's host does between writes.
        if (Kv.AppliedIndex > raft.Status.StableIndex) return;
        if (_cluster.BreakPersistBeforeSend) throw new InvalidOperationException("the broken-persistence host does not take snapshots");
        var snapshot = new RaftSnapshot(raft.SnapshotMetaAt(Kv.AppliedIndex), Kv.Snapshot());
        _storage.Put(SnapshotKey, snapshot);
        _log.RemoveBefore(snapshot.Meta.Index);
        raft.Compact(snapshot);
        _cluster.OnSnapshot(Id, snapshot, installed: false);
    }

    private sealed class SimLogView(SimLog<LogEntry> log) : IReadOnlyList<LogEntry>
    {
        public LogEntry this[int index] => log[log.FirstIndex + index];
        public int Count => log.Count;
        public IEnumerator<LogEntry> GetEnumerator() => log.ReadAll().GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

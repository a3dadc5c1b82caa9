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
/// <see cref="SimStorage"/> through the node's simulated disk, and a restart rebuilds the node and its key-value state machine (from the snapshot, then
/// the committed entries after it) from that storage alone. With <see cref="RaftSimCluster.SnapshotEntries"/> set, the
/// host snapshots its state machine and compacts the log once it holds more entries than that.
/// </summary>
/// <remarks>
/// <para>
/// Storage is asynchronous, like the actor's journal (RaftActor.Ready.cs): a Ready's write completes after the disk's
/// seeded latency, and one Ready is outstanding at a time; messages, ticks and client requests keep stepping the core
/// meanwhile, which buffers their effects for the next Ready. A crash loses every write not yet durable, and with
/// <see cref="SimulatorOptions.TornWriteRate"/> may tear the first: a prefix of its records persists. An installed
/// snapshot and the Ready's entries are separate writes (the snapshot save first), so a crash may land between them.
/// </para>
/// <para>
/// Storage layout: log position p holds the entry with index p + 1, so after a snapshot at index S the log's first
/// position is S (<see cref="SimLog{T}.RemoveBefore"/> keeps positions stable) and position S holds index S + 1. A
/// Ready's entries write is a journal batch of one record per entry (the first also truncates the conflicting
/// stored suffix), then the hard state: the order of etcd's WAL, so a torn batch leaves a prefix of the entries under
/// the previous hard state.
/// </para>
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
    private readonly Action _afterAdvance;
    private LateWriteEnvironment? _lateWrites;
    private ISimContext<object>? _ctx;
    private double _tickCredit;
    // The node's monotonic clock (ms), which runs at its clock rate; restarts with the incarnation, like a process's.
    private double _clockMs;
    private long _clockReadAtMs;
    // True while Drain's loop runs: a Ready finished inside it needs no new Drain.
    private bool _draining;
    private const int ClientRequestsWaitingMax = 10_000;

    public RaftSimNode(NodeId id, SimStorage storage, RaftSimCluster cluster)
    {
        Id = id;
        _storage = storage;
        _cluster = cluster;
        _log = storage.Log<LogEntry>(LogName);
        _environment = new SimEnvironment(this);
        _afterAdvance = AfterAdvance;
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

    /// <summary>Whether a Ready's write is on its way to the disk (the core then holds further effects back).</summary>
    public bool Persisting { get; private set; }

    /// <summary>The index of the host's own snapshot on its way to the disk, if any (its stored entries go once it is durable).</summary>
    public long? SavingSnapshotIndex { get; private set; }

    public void Start(ISimContext<object> ctx)
    {
        EnsureStarted(ctx);
        Drain(); // entries committed before the crash are applied again at once, leader or not
    }

    private RaftNode EnsureStarted(ISimContext<object> ctx)
    {
        if (Raft is not null) return Raft;
        _ctx = ctx;
        _clockMs = _clockReadAtMs = ctx.NowMs;
        Raft = new RaftNode(_cluster.ConfigFor(Id), ctx.Random, Recover());
        if (Raft.Snapshot is { } snapshot) Kv.Restore(snapshot.Data);
        _cluster.Checker.OnRestart(Id, Kv.AppliedIndex);
        return Raft;
    }

    /// <summary>
    /// What the disk holds, as the core is built from it. A torn batch may have stored entries of a term whose hard
    /// state it lost: the term is raised to the last entry's, with no vote (that batch's vote was never sent).
    /// </summary>
    private RaftPersistentState Recover()
    {
        var snapshot = PersistedSnapshot(_storage);
        var from = snapshot?.Meta.Index ?? 0;
        if (_log.FirstIndex != from) throw new InvalidOperationException($"node {Id}: stored log starts at position {_log.FirstIndex}, snapshot at {from}");
        var entries = _log.ReadFrom(from);
        var hs = _storage.Get(HardStateKey, HardState.Empty);
        var lastTerm = entries.Count > 0 ? entries[^1].Term : snapshot?.Meta.Term ?? 0;
        if (lastTerm > hs.Term) hs = hs with { Term = lastTerm, Vote = null };
        return new RaftPersistentState(hs, [.. entries], snapshot);
    }

    /// <summary>The core's own per-node invariants (none while the node has not started).</summary>
    public IReadOnlyList<string> CheckInvariants() => Raft?.CheckInvariants() ?? [];

    /// <summary>This node's monotonic clock: virtual time at its clock rate (<see cref="RaftSimCluster.ClockRates"/>).</summary>
    private long ClockMs(ISimContext<object> ctx)
    {
        _clockMs += (ctx.NowMs - _clockReadAtMs) * _cluster.ClockRate(Id);
        _clockReadAtMs = ctx.NowMs;
        return (long)_clockMs;
    }

    /// <summary>A simulator tick becomes as many Raft ticks as this node's clock rate has accumulated (drift).</summary>
    public void Tick(ISimContext<object> ctx)
    {
        var raft = EnsureStarted(ctx);
        var now = ClockMs(ctx);
        _tickCredit += _cluster.ClockRate(Id);
        while (_tickCredit >= 1)
        {
            _tickCredit -= 1;
            raft.Tick(now);
        }
        Drain();
    }

    /// <summary>Starts an election on this node now (tests use it to pick the leader).</summary>
    public void Campaign(ISimContext<object> ctx)
    {
        EnsureStarted(ctx).Campaign();
        Drain();
    }

    /// <summary>Proposes a membership change here (only a leader accepts it).</summary>
    public ProposeResult ProposeConfChange(ConfChange change, ISimContext<object> ctx)
    {
        var result = EnsureStarted(ctx).ProposeConfChange(change);
        Drain();
        return result;
    }

    /// <summary>Asks this node, if leader, to hand leadership to <paramref name="target"/>.</summary>
    public bool TransferLeadership(NodeId target, ISimContext<object> ctx)
    {
        var started = EnsureStarted(ctx).TransferLeadership(target);
        Drain();
        return started;
    }

    public void Receive(NodeId from, object msg, ISimContext<object> ctx)
    {
        var raft = EnsureStarted(ctx);
        switch (msg)
        {
            case RaftMessage m: raft.Step(m, ClockMs(ctx)); break;
            case RaftClientCommand c: Submit(raft, c); break;
            case RaftClientRead r: Read(raft, r, ClockMs(ctx)); break;
        }
        Drain();
    }

    private void Submit(RaftNode raft, RaftClientCommand c)
    {
        if (_commandsWaiting.Count >= ClientRequestsWaitingMax) { _cluster.Reply(new RaftClientRejected(Id, c.RequestId, raft.LeaderId)); return; }
        var result = raft.Propose(KvCodec.Encode(c.Command));
        if (result.Status == ProposeStatus.Dropped) { _cluster.Reply(new RaftClientRejected(Id, c.RequestId, result.LeaderId)); return; }
        _commandsWaiting[(c.Command.ClientId, c.Command.Sequence)] = c.RequestId;
    }

    private void Read(RaftNode raft, RaftClientRead r, long nowMs)
    {
        if (r.Stale) { _cluster.Reply(new RaftClientOk(Id, r.RequestId, null, Kv.Get(r.Key), Kv.AppliedIndex)); return; }
        if (_readsWaiting.Count >= ClientRequestsWaitingMax) { _cluster.Reply(new RaftClientRejected(Id, r.RequestId, raft.LeaderId)); return; }
        _readsWaiting[r.RequestId] = r.Key;
        raft.ReadIndex(r.RequestId, r.Mode, nowMs);
    }

    /// <summary>
    /// Executes Readies until the core has none or one's write is in flight (the core offers no Ready while one is
    /// outstanding); the write's completion continues from <see cref="AfterAdvance"/>.
    /// </summary>
    private void Drain()
    {
        if (_draining) return;
        var raft = Raft!;
        IReadyEnvironment<RaftMessage> environment = _cluster.BreakPersistBeforeSend ? _lateWrites ??= new LateWriteEnvironment(_environment) : _environment;
        _draining = true;
        try
        {
            while (raft.HasReady) ReadyExecutor.Execute(raft, raft.TakeReady(), environment, _afterAdvance);
        }
        finally
        {
            _draining = false;
        }
    }

    private void AfterAdvance()
    {
        MaybeCompact(Raft!);
        // A write finished after Drain returned: take the Readies buffered meanwhile.
        Drain();
    }

    /// <summary>
    /// Hands a Ready's write to the disk; <paramref name="onDurable"/> continues the Ready. Like the actor, an installed
    /// snapshot is saved first, as a write of its own, and the rest follows once it is durable.
    /// </summary>
    private void Persist(RaftWrite write, Action onDurable)
    {
        Persisting = true;
        void Done()
        {
            Persisting = false;
            onDurable();
        }
        if (write.Snapshot is { } snapshot) _ctx!.Write(InstalledSnapshotWrite(snapshot, write.HardState), () => _ctx!.Write(EntriesWrite(write), Done));
        else _ctx!.Write(EntriesWrite(write), Done);
    }

    /// <summary>
    /// A snapshot installed from a leader replaces the whole stored log, in one record: the snapshot, the emptied log and
    /// a hard state consistent with them on their own (commit at the snapshot, term at least the snapshot's), as the
    /// actor's installed snapshot carries.
    /// </summary>
    private SimWrite InstalledSnapshotWrite(RaftSnapshot snapshot, HardState? pending) =>
        new($"installed snapshot {snapshot.Meta.Index}@{snapshot.Meta.Term}", [storage =>
        {
            var index = snapshot.Meta.Index;
            var log = storage.Log<LogEntry>(LogName);
            if (index < log.FirstIndex) throw new InvalidOperationException($"node {Id}: installing snapshot {index} below the stored one {log.FirstIndex}");
            var hs = pending ?? storage.Get(HardStateKey, HardState.Empty);
            storage.Put(SnapshotKey, snapshot);
            log.Reset(index); // position p holds index p + 1
            storage.Put(HardStateKey, hs with { Term = Math.Max(hs.Term, snapshot.Meta.Term), Commit = index });
        }]);

    /// <summary>The entries (truncate-and-append, one record per entry), then the hard state: one journal batch.</summary>
    private SimWrite EntriesWrite(RaftWrite write)
    {
        var records = new List<Action<SimStorage>>(write.Entries.Length + 1);
        for (var i = 0; i < write.Entries.Length; i++)
        {
            var entry = write.Entries[i];
            var truncate = i == 0;
            records.Add(storage =>
            {
                var log = storage.Log<LogEntry>(LogName);
                if (truncate && entry.Index - 1 < log.NextIndex) log.TruncateFrom(entry.Index - 1);
                log.Append(entry);
            });
        }
        if (write.HardState is { } hs) records.Add(storage => storage.Put(HardStateKey, hs));
        var what = write.Entries.IsEmpty ? "hard state" : $"entries {write.Entries[0].Index}..{write.Entries[^1].Index}";
        return new SimWrite(what, records);
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

    /// <summary>Executes this node's Readies on the simulator: sends to the simulated network, writes to its simulated disk.</summary>
    private sealed class SimEnvironment(RaftSimNode node) : IReadyEnvironment<RaftMessage>
    {
        public void Send(Outgoing<RaftMessage> outgoing) => node._ctx!.Send(outgoing.To, outgoing.Message);

        public void Persist(IReadOnlyList<object> writes, Action onDurable)
        {
            if (writes is not [RaftWrite write]) throw new InvalidOperationException($"a Raft Ready carries one write, got {writes.Count}");
            node.Persist(write, onDurable);
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
    /// Compaction as a production host does it: once SnapshotEntries entries were applied since the last snapshot and the
    /// applied entries are stored, snapshot the state machine at its applied index and save it (a write of its own, one
    /// at a time); once durable, drop the stored entries it covers, let Raft compact, and look again (entries applied
    /// meanwhile may call for the next one).
    /// </summary>
    private void MaybeCompact(RaftNode raft)
    {
        var threshold = _cluster.SnapshotEntries;
        if (threshold <= 0 || SavingSnapshotIndex is not null || Kv.AppliedIndex - (raft.Snapshot?.Meta.Index ?? 0) <= threshold
            || Kv.AppliedIndex < raft.FirstLogIndex) return;
        // Committed entries may be applied before this node's own write of them (they are durable on a majority); the
        // snapshot waits until the stored log reaches the applied index, as the actor's host does between writes.
        if (Kv.AppliedIndex > raft.Status.StableIndex) return;
        if (_cluster.BreakPersistBeforeSend) throw new InvalidOperationException("the broken-persistence host does not take snapshots");
        var snapshot = new RaftSnapshot(raft.SnapshotMetaAt(Kv.AppliedIndex), Kv.Snapshot());
        _cluster.OnSnapshot(Id, snapshot, installed: false);
        var index = snapshot.Meta.Index;
        SavingSnapshotIndex = index;
        _ctx!.Write(new SimWrite($"snapshot {index}@{snapshot.Meta.Term}", [storage =>
        {
            // Writes complete in order, so nothing newer can be stored yet; the check keeps a mistake from going unseen.
            if (PersistedSnapshot(storage) is { } stored && stored.Meta.Index >= index)
                throw new InvalidOperationException($"node {Id}: saving snapshot {index} over the stored {stored.Meta.Index}");
            storage.Put(SnapshotKey, snapshot);
            storage.Log<LogEntry>(LogName).RemoveBefore(index);
        }]), () =>
        {
            SavingSnapshotIndex = null;
            raft.Compact(snapshot);
            MaybeCompact(raft);
        });
    }

    private sealed class SimLogView(SimLog<LogEntry> log) : IReadOnlyList<LogEntry>
    {
        public LogEntry this[int index] => log[log.FirstIndex + index];
        public int Count => log.Count;
        public IEnumerator<LogEntry> GetEnumerator() => log.ReadAll().GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

using System.Collections;
using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Core.Raft.KeyValue;

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
/// persist -> send -> apply/reply -> advance, term/vote/commit and the log go to <see cref="SimStorage"/>, and a
/// restart rebuilds the node (and its key-value state machine, from index 1) from that storage alone.
/// </summary>
public sealed class RaftSimNode : ISimNode<object>
{
    public const string HardStateKey = "raft.hard-state";
    public const string LogName = "raft.log";

    private readonly RaftSimCluster _cluster;
    private readonly SimStorage _storage;
    private readonly SimLog<LogEntry> _log;
    private readonly Dictionary<(long Client, long Sequence), long> _commandsWaiting = [];
    private readonly Dictionary<long, string> _readsWaiting = [];
    private Ready? _unsyncedWrite;
    private double _tickCredit;
    private const int ClientRequestsWaitingMax = 10_000;

    public RaftSimNode(NodeId id, SimStorage storage, RaftSimCluster cluster)
    {
        Id = id;
        _storage = storage;
        _cluster = cluster;
        _log = storage.Log<LogEntry>(LogName);
    }

    public NodeId Id { get; }
    public RaftNode? Raft { get; private set; }
    public KeyValueStore Kv { get; } = new();

    /// <summary>The persisted log, indexed like the Raft log (position 0 holds index 1), without copying.</summary>
    public static IReadOnlyList<LogEntry> PersistedLog(SimStorage storage) => new SimLogView(storage.Log<LogEntry>(LogName));

    public void Start(ISimContext<object> ctx) => EnsureStarted(ctx);

    private RaftNode EnsureStarted(ISimContext<object> ctx)
    {
        if (Raft is not null) return Raft;
        var persisted = new RaftPersistentState(_storage.Get(HardStateKey, HardState.Empty), [.. _log.ReadAll()]);
        Raft = new RaftNode(_cluster.ConfigFor(Id), ctx.Random, persisted);
        _cluster.Checker.OnRestart(Id);
        return Raft;
    }

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
        while (raft.HasReady)
        {
            var ready = raft.TakeReady();
            foreach (var m in ready.MessagesBeforePersist) ctx.Send(m.To, m);
            if (_cluster.BreakPersistBeforeSend)
            {
                // Deliberately broken host: the write reaches the disk one Ready late, so a crash loses acknowledged data.
                if (_unsyncedWrite is not null) Persist(_unsyncedWrite);
                _unsyncedWrite = ready;
            }
            else Persist(ready);
            foreach (var m in ready.Messages) ctx.Send(m.To, m);
            foreach (var entry in ready.CommittedEntries)
            {
                _cluster.Checker.OnApplied(Id, entry);
                if (Kv.Apply(entry) is { } applied && _commandsWaiting.Remove((applied.ClientId, applied.Sequence), out var requestId))
                    _cluster.Reply(new RaftClientOk(Id, requestId, applied.Result, null, applied.Index));
            }
            foreach (var read in ready.ReadStates)
                if (_readsWaiting.Remove(read.RequestId, out var key))
                    _cluster.Reply(new RaftClientOk(Id, read.RequestId, null, Kv.Get(key), read.Index));
            foreach (var id in ready.ReadsDropped)
                if (_readsWaiting.Remove(id))
                    _cluster.Reply(new RaftClientRejected(Id, id, raft.LeaderId));
            raft.Advance(ready);
        }
    }

    private void Persist(Ready ready)
    {
        if (ready.HardState is not null) _storage.Put(HardStateKey, ready.HardState);
        if (ready.Entries.IsEmpty) return;
        var first = ready.Entries[0].Index;
        if (first - 1 < _log.NextIndex) _log.TruncateFrom(first - 1);
        _log.AppendRange(ready.Entries);
    }

    private sealed class SimLogView(SimLog<LogEntry> log) : IReadOnlyList<LogEntry>
    {
        public LogEntry this[int index] => log[index];
        public int Count => log.Count;
        public IEnumerator<LogEntry> GetEnumerator() => log.ReadAll().GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

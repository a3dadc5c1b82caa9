using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// Hosts one <see cref="RaftNode"/> and the replicated <see cref="KeyValueStore"/>. The actor holds no protocol
/// logic: it feeds messages and timer ticks into the core and executes each Ready in the documented order —
/// send the leader's pre-persist messages, persist term/vote/entries to the journal, then send the messages that
/// promise them, apply committed entries and answer clients, then Advance.
/// </summary>
/// <remarks>
/// Client sessions (dissertation 6.3): each write goes out under a session (random client id, sequence from 1)
/// taken from a pool, one request per session at a time, so a proposal that is retried or duplicated by the
/// network is applied once. Requests forwarded to the leader are answered when the entry is applied here.
/// </remarks>
public sealed partial class RaftActor : UntypedPersistentActor, IWithTimers
{
    private readonly NodeId _self;
    private readonly ImmutableArray<NodeId> _voters;
    private readonly RaftSettings _settings;
    private readonly IActorRef _network;
    private readonly TimeSpan _requestTimeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly List<LogEntry> _recoveredLog = new();
    private HardState _recoveredHardState = HardState.Empty;
    private RaftSnapshot? _recoveredSnapshot;
    // What the journal (with the latest saved snapshot) holds as term/vote/commit: what a snapshot saved now must carry.
    private HardState _persistedHardState = HardState.Empty;
    // The membership of the applied entries (the committed one), which admin requests wait for.
    private Membership _appliedMembership = Membership.Empty;

    private RaftNode? _node;
    private KeyValueStore _store;
    private bool _persisting;
    private SnapshotSave? _snapshotSave;
    private Ready? _installing;
    private DateTime _snapshotRetryAt = DateTime.MinValue;
    private bool _flushScheduled;

    private readonly Dictionary<(long Client, long Seq), PendingWrite> _writes = new();
    private readonly Dictionary<string, PendingWrite> _writesByIdempotencyKey = new(StringComparer.Ordinal);
    private readonly Dictionary<long, PendingRead> _reads = new();
    private readonly Stack<ClientSession> _idleSessions = new();
    private long _nextReadId;

    public ITimerScheduler Timers { get; set; } = null!;

    public RaftActor(NodeId self, IReadOnlyCollection<NodeId> voters, RaftSettings settings, IActorRef network, TimeSpan requestTimeout)
    {
        _self = self;
        _voters = voters.Order().ToImmutableArray();
        _settings = settings;
        _network = network;
        _requestTimeout = requestTimeout;
        _store = new KeyValueStore(settings.SessionsMax, settings.Idempotency.TtlMs, settings.Idempotency.RecordsMax);
        PersistenceId = $"raft-node-{self.Value}";
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> voters, RaftSettings settings, IActorRef network, TimeSpan requestTimeout) =>
        Akka.Actor.Props.Create(() => new RaftActor(self, voters, settings, network, requestTimeout));

    public override string PersistenceId { get; }

    // ------------------------------------------------------------------ recovery

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: RaftStateSnapshot saved }:
                _recoveredSnapshot = saved.ToSnapshot();
                _recoveredHardState = saved.HardState.ToHardState();
                _recoveredLog.Clear();
                _recoveredLog.AddRange(saved.Tail.Select(e => e.ToEntry()));
                _store.Restore(saved.Data);
                break;
            case SnapshotOffer other:
                throw new InvalidOperationException($"{PersistenceId}: the snapshot store offered a {other.Snapshot?.GetType().Name ?? "null"}, not a {nameof(RaftStateSnapshot)}");
            case RaftHardStateSaved hs:
                _recoveredHardState = hs.ToHardState();
                break;
            case RaftEntriesSaved saved:
                // FromIndex is absolute; the recovered log starts after the snapshot, whose entries are never rewritten.
                var snapshotIndex = _recoveredSnapshot?.Meta.Index ?? 0;
                var keep = (int)Math.Max(0, saved.FromIndex - 1 - snapshotIndex);
                if (_recoveredLog.Count > keep) _recoveredLog.RemoveRange(keep, _recoveredLog.Count - keep);
                _recoveredLog.AddRange(saved.Entries.Where(e => e.Index > snapshotIndex).Select(e => e.ToEntry()));
                break;
            case RecoveryCompleted:
                StartNode();
                break;
        }
    }

    private void StartNode()
    {
        var seed = _settings.Seed != 0 ? _settings.Seed : (long)_self.Value * 1_000_003 ^ DateTime.UtcNow.Ticks;
        var config = new RaftConfig
        {
            Id = _self,
            Voters = _voters,
            ElectionTicks = _settings.ElectionTicks,
            HeartbeatTicks = _settings.HeartbeatTicks,
            PreVote = _settings.PreVote,
            CheckQuorum = _settings.CheckQuorum,
            LeaseClockDriftTicks = _settings.LeaseClockDriftTicks,
            AppendEntriesMax = _settings.AppendEntriesMax,
            AppendBytesMax = _settings.AppendBytesMax,
            InflightMessagesMax = _settings.InflightMessagesMax,
            InflightBytesMax = _settings.InflightBytesMax,
            UncommittedEntriesMax = _settings.UncommittedEntriesMax,
            SnapshotChunkBytes = _settings.SnapshotChunkBytes,
            AutoPromoteLearners = _settings.AutoPromoteLearners,
            TransferTimeoutElections = _settings.TransferTimeoutElections,
        };
        _node = new RaftNode(config, new DeterministicRandom(seed),
            new RaftPersistentState(_recoveredHardState, _recoveredLog.ToImmutableArray(), _recoveredSnapshot));
        _persistedHardState = _recoveredHardState;
        _appliedMembership = _recoveredSnapshot?.Meta.Membership ?? new Membership(_voters, []);
        _log.Info("raft node {0} recovered term {1}, snapshot at {2}, {3} log entries after it, commit {4}; election seed {5}",
            _self, _recoveredHardState.Term, _recoveredSnapshot?.Meta.Index ?? 0, _recoveredLog.Count, _recoveredHardState.Commit, seed);
        _recoveredLog.Clear();
        _recoveredSnapshot = null;
        _network.Tell(new NetworkProtocol.Register(Service, Self));
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TimeSpan.FromMilliseconds(_settings.TickMs));
        Timers.StartPeriodicTimer(Sweep.Instance, Sweep.Instance, _requestTimeout);
        Timers.StartPeriodicTimer(LeaderClock.Instance, LeaderClock.Instance, TimeSpan.FromMilliseconds(_settings.Idempotency.LeaderClockIntervalMs));
        ScheduleFlush();
    }

    // ------------------------------------------------------------------ commands

    protected override void OnCommand(object message)
    {
        var node = _node!;
        switch (message)
        {
            case RaftMessage m:
                node.Step(m);
                ScheduleFlush();
                break;
            case Tick:
                node.Tick();
                CheckAdmin();
                ScheduleFlush();
                break;
            case Flush:
                _flushScheduled = false;
                ProcessReady();
                break;
            case KvWrite write:
                OnWrite(write, Sender);
                break;
            case Get get:
                OnRead(get, Sender);
                break;
            case AwaitReady:
                if (node.LeaderId is { } leader) Sender.Tell(new RaftReady(leader.Value, node.Term));
                else if (_readyWaiters.Count < _settings.PendingRequestsMax) _readyWaiters.Add(Sender);
                else Sender.Tell(new Unavailable("overloaded: too many readiness waiters", Unknown: false));
                break;
            case RaftProtocol.GetStatus:
                Sender.Tell(new NodeStatus(node.Status, _writes.Count, _reads.Count, _store.SessionCount, true)
                {
                    FirstLogIndex = node.FirstLogIndex,
                    CommittedMembership = _appliedMembership,
                    SnapshotSaving = _snapshotSave is not null,
                    PendingAdmin = _admin.Count,
                });
                break;
            case Sweep:
                ExpirePending();
                ExpireAdmin(DateTime.UtcNow);
                break;
            case LeaderClock:
                ProposeLeaderClock();
                break;
            default:
                if (!OnSnapshotCommand(message) && !OnAdminCommand(message)) Unhandled(message);
                break;
        }
    }

    /// <summary>Membership and leadership-transfer requests (RaftActor.Admin.cs); false when the message is not one.</summary>
    private partial bool OnAdminCommand(object message);

    private void OnWrite(KvWrite write, IActorRef client)
    {
        if (Validate(write.Key, write switch { Put p => p.Value, Cas c => c.Value, _ => null }, (write as Cas)?.Expected) is { } rejected)
        {
            client.Tell(rejected);
            return;
        }
        if (_writes.Count + _reads.Count >= _settings.PendingRequestsMax)
        {
            client.Tell(new Unavailable("overloaded: too many requests pending", Unknown: false));
            return;
        }
        if (write.Idempotency is { } idem && _writesByIdempotencyKey.TryGetValue(idem.Key, out var inFlight))
        {
            // A retry while the first request with this key is still in flight here: it waits for the same answer.
            if (inFlight.Request.Idempotency!.Fingerprint == idem.Fingerprint) inFlight.Waiters.Add(client);
            else client.Tell(new IdempotencyConflict($"Idempotency-Key '{idem.Key}' is in use by a different request"));
            return;
        }
        var session = _idleSessions.Count > 0 ? _idleSessions.Pop() : ClientSession.New();
        var pending = new PendingWrite(write, client, session, DateTime.UtcNow + _requestTimeout, Attempts: 1, Waiters: new List<IActorRef>());
        if (write.Idempotency is { } key) _writesByIdempotencyKey[key.Key] = pending;
        Propose(pending);
    }

    /// <summary>The leader writes its wall-clock time into the log: the replicated clock Idempotency-Key expiry is judged by.</summary>
    private void ProposeLeaderClock()
    {
        if (_node is not { Role: RaftRole.Leader } node) return;
        node.Propose(KvCodec.Encode(new KvClock(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())));
        ScheduleFlush();
    }

    private void Propose(PendingWrite pending)
    {
        var s = pending.Session;
        KvCommand command = pending.Request switch
        {
            Put p => (KvCommand)new KvPut(s.ClientId, s.Sequence, p.Key, p.Value),
            Delete d => new KvDelete(s.ClientId, s.Sequence, d.Key),
            Cas c => new KvCas(s.ClientId, s.Sequence, c.Key, c.Expected, c.Value),
            _ => throw new InvalidOperationException($"unknown write {pending.Request.GetType().Name}"),
        } with { Idempotency = pending.Request.Idempotency };
        var result = _node!.Propose(KvCodec.Encode(command));
        if (result.Status == ProposeStatus.Dropped)
        {
            // Never handed to Raft: the session's sequence number is unused and the slot can go back as it is.
            _idleSessions.Push(s);
            Reply(pending, new Unavailable(DropReason(_node, result), Unknown: false));
            return;
        }
        _writes[(s.ClientId, s.Sequence)] = pending;
        ScheduleFlush();
    }

    /// <summary>Why the core dropped a proposal; back pressure and transfers answer "overloaded" (503, safe to retry after a pause).</summary>
    private static string DropReason(RaftNode node, ProposeResult result)
    {
        if (result.LeaderId is null) return "no Raft leader is known";
        if (node.Role != RaftRole.Leader) return $"the proposal could not be forwarded to the leader ({result.Reason})";
        return $"overloaded: {result.Reason ?? "the leader did not accept the proposal"}";
    }

    private void OnRead(Get get, IActorRef client)
    {
        if (Validate(get.Key, null, null) is { } rejected)
        {
            client.Tell(rejected);
            return;
        }
        if (get.Consistency == Consistency.Stale)
        {
            client.Tell(new ReadResult(_store.Get(get.Key), _store.AppliedIndex));
            return;
        }
        if (_writes.Count + _reads.Count >= _settings.PendingRequestsMax)
        {
            client.Tell(new Unavailable("overloaded: too many requests pending", Unknown: false));
            return;
        }
        var id = ++_nextReadId;
        _reads[id] = new PendingRead(get.Key, client, DateTime.UtcNow + _requestTimeout);
        _node!.ReadIndex(id, get.Consistency == Consistency.Lease ? ReadMode.Lease : ReadMode.ReadIndex);
        ScheduleFlush();
    }

    private Rejected? Validate(string key, string? value, string? expected)
    {
        if (string.IsNullOrEmpty(key)) return new Rejected("the key must not be empty", TooLarge: false);
        if (System.Text.Encoding.UTF8.GetByteCount(key) > _settings.KeyBytesMax)
            return new Rejected($"the key exceeds {_settings.KeyBytesMax} bytes", TooLarge: false);
        foreach (var v in new[] { value, expected })
            if (v is not null && System.Text.Encoding.UTF8.GetByteCount(v) > _settings.ValueBytesMax)
                return new Rejected($"the value exceeds {_settings.ValueBytesMax} bytes", TooLarge: true);
        return null;
    }

    // ------------------------------------------------------------------ Ready

    private void ScheduleFlush()
    {
        // Step every message already queued before taking a Ready, so proposals arriving together share one write.
        if (_flushScheduled) return;
        _flushScheduled = true;
        Self.Tell(Flush.Instance);
    }

    private void ProcessReady()
    {
        var node = _node!;
        LogRoleChange(node);
        while (!_persisting && _installing is null && node.HasReady)
        {
            var ready = node.TakeReady();
            Send(ready.MessagesBeforePersist);
            if (ready.Snapshot is not null)
            {
                // A snapshot from the leader replaces the log through its index: durable before anything that depends on it.
                _installing = ready;
                SaveInstalledSnapshot();
                return;
            }
            if (!PersistThenFinish(ready)) continue;
            return;
        }
        CheckAdmin();
    }

    /// <summary>Persists the Ready's term/vote/entries, then finishes it; false (and finished at once) when there is nothing to write.</summary>
    private bool PersistThenFinish(Ready ready)
    {
        var events = new List<object>(2);
        // Commit alone need not be durable (HardState remarks: losing it is safe), so a Ready that moves only the
        // commit index costs no journal write; the next write carries it.
        var hs = ready.HardState;
        if (hs is not null && ready.Entries.IsEmpty && hs.Term == _persistedHardState.Term && hs.Vote == _persistedHardState.Vote) hs = null;
        if (hs is not null) events.Add(RaftHardStateSaved.From(hs));
        if (!ready.Entries.IsEmpty)
            events.Add(new RaftEntriesSaved(ready.Entries[0].Index, ready.Entries.Select(RaftEntryRecord.From).ToArray()));
        if (events.Count == 0)
        {
            Finish(ready);
            return false;
        }
        _persisting = true;
        var last = events[^1];
        // Inputs keep arriving while the write is in flight; the core buffers their effects for the next Ready.
        PersistAllAsync(events, e =>
        {
            if (!ReferenceEquals(e, last)) return;
            _persisting = false;
            if (hs is not null) _persistedHardState = hs;
            Finish(ready);
            ProcessReady();
        });
        return true;
    }

    private (RaftRole Role, long Term, NodeId? Leader) _lastLogged;
    private readonly List<IActorRef> _readyWaiters = new();

    /// <summary>One log line per change of role, term or leader, so elections can be watched in the node logs.</summary>
    private void LogRoleChange(RaftNode node)
    {
        var now = (node.Role, node.Term, node.LeaderId);
        if (now.LeaderId is { } leader && _readyWaiters.Count > 0)
        {
            foreach (var waiter in _readyWaiters) waiter.Tell(new RaftReady(leader.Value, now.Term));
            _readyWaiters.Clear();
        }
        if (now == _lastLogged) return;
        if (now.Role == RaftRole.Leader && _lastLogged.Role != RaftRole.Leader) ProposeLeaderClock();
        _lastLogged = now;
        _log.Info("raft node {0} is {1} in term {2}, leader {3}", _self, now.Role, now.Term, now.LeaderId?.ToString() ?? "unknown");
    }

    private void Finish(Ready ready)
    {
        Send(ready.Messages);
        if (ready.Snapshot is { } installed)
        {
            _store.Restore(installed.Data);
            _appliedMembership = installed.Meta.Membership;
        }
        foreach (var entry in ready.CommittedEntries)
        {
            if (entry.Index <= _store.AppliedIndex) continue; // covered by the snapshot just restored
            if (entry.Type == EntryType.ConfChange)
            {
                // The entry carries the whole membership after the change; the older change-only form is applied like the core does.
                var change = ConfChange.Decode(entry.Data);
                _appliedMembership = ConfChange.DecodeMembership(entry.Data)
                    ?? (_appliedMembership.Check(change) is null ? _appliedMembership.Apply(change) : _appliedMembership);
            }
            if (_store.Apply(entry) is { } applied) Answer(applied);
        }
        foreach (var read in ready.ReadStates)
            if (_reads.Remove(read.RequestId, out var pending))
                pending.Client.Tell(new ReadResult(_store.Get(pending.Key), _store.AppliedIndex));
        foreach (var id in ready.ReadsDropped)
            if (_reads.Remove(id, out var pending))
                pending.Client.Tell(new Unavailable("the read could not be confirmed by a leader (leadership changed or unknown)", Unknown: false));
        _node!.Advance(ready);
        MaybeTakeSnapshot();
    }

    // ------------------------------------------------------------------ snapshots

    /// <summary>
    /// Takes a snapshot of the store at the applied index once that many entries follow the last one. Called only
    /// between journal writes, so the snapshot's sequence number covers exactly the events already durable, and the
    /// events persisted after it (all with higher sequence numbers) replay on top of it at recovery.
    /// </summary>
    private void MaybeTakeSnapshot()
    {
        var node = _node!;
        if (_persisting || _snapshotSave is not null || DateTime.UtcNow < _snapshotRetryAt) return;
        var applied = node.AppliedIndex;
        if (applied - (node.FirstLogIndex - 1) < _settings.SnapshotEntries) return;
        var meta = node.SnapshotMetaAt(applied);
        var snapshot = new RaftSnapshot(meta, _store.Snapshot());
        StartSnapshotSave(new SnapshotSave(snapshot, ToStateSnapshot(snapshot, node), Installed: null));
    }

    /// <summary>Saves the snapshot of the Ready being installed; the Ready continues (persist, send, apply) once it is durable.</summary>
    private void SaveInstalledSnapshot()
    {
        if (_snapshotSave is not null || _installing is not { Snapshot: { } snapshot } ready) return; // starts when the save in flight ends
        // It replaces the whole stored log: the entries the node kept after it come again in the Ready's Entries.
        StartSnapshotSave(new SnapshotSave(snapshot, ToStateSnapshot(snapshot, _node!, ready.HardState, keepTail: false), ready));
    }

    private void StartSnapshotSave(SnapshotSave save)
    {
        _snapshotSave = save with { SequenceNr = LastSequenceNr };
        _log.Info("raft node {0} saving {1} (journal sequence {2})", _self, save.Snapshot, LastSequenceNr);
        SaveSnapshot(save.State);
    }

    /// <summary>
    /// The state a snapshot must carry: the log entries after it that the journal holds (only durable ones; later
    /// ones follow as events) and term/vote/commit, commit capped at the last of those entries so recovery from the
    /// snapshot alone is consistent.
    /// </summary>
    private RaftStateSnapshot ToStateSnapshot(RaftSnapshot snapshot, RaftNode node, HardState? pendingHardState = null, bool keepTail = true)
    {
        var stable = keepTail ? node.Status.StableIndex : snapshot.Meta.Index;
        var tail = node.Log.Where(e => e.Index > snapshot.Meta.Index && e.Index <= stable).Select(RaftEntryRecord.From).ToArray();
        var hs = pendingHardState ?? _persistedHardState;
        var lastIndex = tail.Length > 0 ? tail[^1].Index : snapshot.Meta.Index;
        hs = hs with { Commit = Math.Clamp(hs.Commit, snapshot.Meta.Index, lastIndex), Term = Math.Max(hs.Term, snapshot.Meta.Term) };
        var m = snapshot.Meta.Membership;
        return new RaftStateSnapshot(RaftHardStateSaved.From(hs), snapshot.Meta.Index, snapshot.Meta.Term,
            m.Voters.Select(v => v.Value).ToArray(), m.Learners.Select(l => l.Value).ToArray(), snapshot.Data, tail);
    }

    private bool OnSnapshotCommand(object message)
    {
        switch (message)
        {
            case SaveSnapshotSuccess ok when _snapshotSave is { } save && ok.Metadata.SequenceNr == save.SequenceNr:
                _snapshotSave = null;
                _log.Info("raft node {0} saved {1}", _self, save.Snapshot);
                if (save.Installed is { } ready)
                {
                    _persistedHardState = save.State.HardState.ToHardState();
                    _installing = null;
                    if (!PersistThenFinish(ready)) ProcessReady();
                }
                else
                {
                    _node!.Compact(save.Snapshot);
                }
                // Akka.Persistence.Sql marks the rows deleted and physically deletes all but the highest one (it keeps the sequence number), so the journal stays bounded.
                if (ok.Metadata.SequenceNr > 0) DeleteMessages(ok.Metadata.SequenceNr);
                // Some stores read a bound of 0 as "no bound" and would delete this snapshot too.
                if (ok.Metadata.SequenceNr > 1) DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
                SaveInstalledSnapshot();
                ScheduleFlush();
                return true;
            case SaveSnapshotFailure failed when _snapshotSave is { } save && failed.Metadata.SequenceNr == save.SequenceNr:
                // Nothing is lost: the journal still holds everything; an installed snapshot's Ready waits and is saved again.
                _log.Error(failed.Cause, "raft node {0} could not save {1}; retrying in {2}", _self, save.Snapshot, SnapshotRetryDelay);
                _snapshotSave = null;
                _snapshotRetryAt = DateTime.UtcNow + SnapshotRetryDelay;
                if (_installing is not null) Timers.StartSingleTimer(RetrySnapshot.Instance, RetrySnapshot.Instance, SnapshotRetryDelay);
                return true;
            case RetrySnapshot:
                SaveInstalledSnapshot();
                return true;
            case SaveSnapshotSuccess or SaveSnapshotFailure:
                return true;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess:
                return true;
            case DeleteMessagesFailure f:
                _log.Warning("raft node {0} could not truncate the journal through {1}: {2}", _self, f.ToSequenceNr, f.Cause.Message);
                return true;
            case DeleteSnapshotsFailure f:
                _log.Warning("raft node {0} could not delete old snapshots: {1}", _self, f.Cause.Message);
                return true;
            default:
                return false;
        }
    }

    private static readonly TimeSpan SnapshotRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>The one snapshot save in flight: the host's own (Installed null) or a leader's that a Ready waits for.</summary>
    private sealed record SnapshotSave(RaftSnapshot Snapshot, RaftStateSnapshot State, Ready? Installed, long SequenceNr = 0);

    private sealed record RetrySnapshot
    {
        public static readonly RetrySnapshot Instance = new();
    }

    /// <summary>Answers the request's client and every retry that joined it while in flight (those are replays).</summary>
    private void Reply(PendingWrite pending, object answer)
    {
        if (pending.Request.Idempotency is { } idem && _writesByIdempotencyKey.TryGetValue(idem.Key, out var p) && ReferenceEquals(p, pending))
            _writesByIdempotencyKey.Remove(idem.Key);
        pending.Client.Tell(answer);
        var replay = answer is WriteResult w ? w with { Replayed = true } : answer;
        foreach (var waiter in pending.Waiters) waiter.Tell(replay);
    }

    private void Answer(KvApplied applied)
    {
        if (!_writes.Remove((applied.ClientId, applied.Sequence), out var pending)) return;
        var session = pending.Session;
        switch (applied.Result.Status)
        {
            case KvStatus.SessionExpired:
                // The cluster evicted (or never saw) this session, and nothing was applied: retry once under a new one.
                if (pending.Attempts < 3)
                {
                    var retry = pending with { Session = ClientSession.New(), Attempts = pending.Attempts + 1 };
                    if (retry.Request.Idempotency is { } idem) _writesByIdempotencyKey[idem.Key] = retry;
                    Propose(retry);
                    return;
                }
                Reply(pending, new Unavailable("client session expired repeatedly", Unknown: false));
                return;
            case KvStatus.StaleSequence:
            case KvStatus.Invalid:
                Reply(pending, new Unavailable($"the command was not applied ({applied.Result.Status})", Unknown: false));
                break;
            case KvStatus.IdempotencyMismatch:
                Reply(pending, new IdempotencyConflict($"Idempotency-Key '{pending.Request.Idempotency?.Key}' was first used with a different request"));
                break;
            default:
                Reply(pending, new WriteResult(applied.Result.Status, applied.EffectIndex, applied.Result.Value, applied.Replayed));
                break;
        }
        _idleSessions.Push(session.Next());
    }

    private void Send(ImmutableArray<RaftMessage> messages)
    {
        foreach (var m in messages) _network.Tell(new NetworkProtocol.Send(m.To, Service, m));
    }

    private void ExpirePending()
    {
        var now = DateTime.UtcNow;
        foreach (var (key, pending) in _writes.Where(w => w.Value.Deadline < now).ToList())
        {
            // The outcome is unknown: the entry may still commit. The next request of this session uses the next
            // sequence number, so a late commit of this one is answered StaleSequence and never applied twice.
            _writes.Remove(key);
            Reply(pending, new Unavailable("the write was not confirmed in time", Unknown: true));
            _idleSessions.Push(pending.Session.Next());
        }
        foreach (var (id, pending) in _reads.Where(r => r.Value.Deadline < now).ToList())
        {
            _reads.Remove(id);
            pending.Client.Tell(new Unavailable("the read was not confirmed in time", Unknown: false));
        }
    }

    private sealed record PendingWrite(KvWrite Request, IActorRef Client, ClientSession Session, DateTime Deadline, int Attempts, List<IActorRef> Waiters);

    private sealed record PendingRead(string Key, IActorRef Client, DateTime Deadline);

    /// <summary>A client session: random id (unique across nodes and restarts with overwhelming probability), next sequence.</summary>
    private sealed record ClientSession(long ClientId, long Sequence)
    {
        public static ClientSession New() => new(Random.Shared.NextInt64(1, long.MaxValue), 1);
        public ClientSession Next() => this with { Sequence = Sequence + 1 };
    }

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Flush
    {
        public static readonly Flush Instance = new();
    }

    private sealed record Sweep
    {
        public static readonly Sweep Instance = new();
    }

    private sealed record LeaderClock
    {
        public static readonly LeaderClock Instance = new();
    }
}

using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.StateMachine;
using DistSysActors.Core.KeyValue;
using DistSysActors.Core.StateMachine;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Actors.KeyValue;

/// <summary>
/// The replicated key-value service: validation, client sessions, Idempotency-Key handling, pending requests and the
/// <see cref="KeyValueStore"/>, driven through <see cref="IReplicatedStateMachine{TResult}"/>. Any consensus replica
/// that offers an <see cref="IConsensusLog"/> can host it.
/// </summary>
/// <remarks>
/// Client sessions (dissertation 6.3): each write goes out under a session taken from a pool, one request per session
/// at a time, so a proposal that is retried or duplicated by the network is applied once. When the pool is empty the
/// write first registers a new session through the log (<see cref="KvRegister"/>; the client id is the index of that
/// entry) and is proposed once the registration is applied here. A command of a session the cluster evicted is
/// answered SessionExpired and not applied; the write then registers anew and is proposed again (at most twice more),
/// which is safe because it was applied nowhere before: its first apply would have answered it here. Only when a
/// snapshot was installed here meanwhile (applies skipped) is that unknown, and the client is told so (outcome unknown).
/// Requests passed on to the leader are answered when the entry is applied here.
///
/// Limits: sessions-max and the idempotency TTL and records-max shape the replicated state, so every replica applies
/// the cluster's (<see cref="KeyValueStore.Limits"/>, from the log). A leader whose replicated state has none proposes
/// its own (<see cref="KvConfigure"/>) on gaining leadership, ahead of its clock entry, and again with each clock entry
/// until one is applied; a node whose own configuration differs logs a warning naming each such setting.
/// </remarks>
public sealed partial class KvService : IReplicatedService
{
    private readonly IConsensusLog _log;
    private readonly KvSettings _settings;
    private readonly TimeSpan _requestTimeout;
    private readonly KeyValueStore _store;
    private readonly IReplicatedStateMachine<KvApplied> _machine;
    private readonly ILoggingAdapter? _logger;
    // The configuration version whose limits were last compared with this node's own.
    private long _checkedConfigVersion;

    private readonly Dictionary<(long Client, long Seq), PendingWrite> _writes = new();
    // Writes waiting for their session's registration to be applied, by the registration's nonce.
    private readonly Dictionary<long, PendingWrite> _registering = new();
    private readonly Dictionary<string, PendingWrite> _writesByIdempotencyKey = new(StringComparer.Ordinal);
    private readonly Dictionary<long, PendingRead> _reads = new();
    private readonly Stack<ClientSession> _idleSessions = new();
    private long _nextReadId = Random.Shared.NextInt64(); // not 0: a restarted node must not reuse an earlier incarnation's read ids
    // Counts snapshots restored here: a write proposed before one may have been applied in the entries it replaced.
    private int _restores;

    /// <param name="logger">Where the warning about limits that differ from the cluster's goes; none when null.</param>
    public KvService(IConsensusLog log, KvSettings settings, TimeSpan requestTimeout, ILoggingAdapter? logger = null)
    {
        _log = log;
        _logger = logger;
        _settings = settings;
        _requestTimeout = requestTimeout;
        _store = new KeyValueStore(settings.SessionsMax, settings.Idempotency.TtlMs, settings.Idempotency.RecordsMax);
        _machine = _store;
        Timers = [(LeaderClock.Instance, TimeSpan.FromMilliseconds(settings.Idempotency.LeaderClockIntervalMs)), (Repropose.Instance, ReproposeAfter / 2),
            (SessionSweep.Instance, SessionSweepInterval(settings)),
            (LeaseClock.Instance, TimeSpan.FromMilliseconds(settings.Election.LeaseClockIntervalMs))];
    }

    public long AppliedIndex => _machine.AppliedIndex;

    public IReadOnlyList<(object Message, TimeSpan Interval)> Timers { get; }

    public ServiceStatus Status => new(PendingWrites, _reads.Count + _sessionReads.Count, _store.SessionCount);

    private int PendingWrites => _writes.Count + _registering.Count;

    public byte[] Snapshot() => _machine.Snapshot();

    public void Restore(byte[] snapshot)
    {
        _machine.Restore(snapshot);
        _restores++;
        CheckLimits();
        ReleaseSessionReads();
    }

    public void Apply(long index, byte[]? command)
    {
        if (_machine.Apply(index, command) is { } applied) Answer(applied);
        CheckLimits();
        if (index >= _sessionReadsMinIndex) ReleaseSessionReads();
    }

    /// <summary>The cluster's limits in force (the defaults until the log configures them).</summary>
    public KvLimits Limits => _store.Limits;

    public bool Receive(object message, IActorRef sender)
    {
        switch (message)
        {
            case KvWrite write:
                OnWrite(write, sender);
                return true;
            case Get get:
                OnRead(get, sender);
                return true;
            case Repropose:
                ProposeAgain(DateTime.UtcNow - ReproposeAfter);
                return true;
            case SessionSweep:
                ExpireSessionReads(DateTime.UtcNow);
                return true;
            case LeaderClock:
                ProposeLimits();
                ProposeLeaderClock();
                return true;
            case ElectionProtocol.ElectionRead read:
                OnElectionRead(read, sender);
                return true;
            case LeaseClock:
                OnLeaseClock();
                return true;
            case ElectionProtocol.GetLeases:
                sender.Tell(HeldLeases());
                return true;
            default:
                return false;
        }
    }

    public void LeadershipGained()
    {
        ProposeLimits();
        ProposeLeaderClock();
    }

    /// <summary>
    /// How long a proposed write waits for its entry before it is proposed again: a follower passes proposals on to the
    /// leader once, and a leader that dies, steps down or drops one (overloaded, transferring) would leave it to time out.
    /// </summary>
    public static readonly TimeSpan ReproposeAfter = TimeSpan.FromSeconds(1);

    /// <summary>A new leader is known: every write still waiting is proposed again at once (it may have gone to the old one).</summary>
    public void LeaderChanged() => ProposeAgain(DateTime.MaxValue);

    /// <summary>
    /// Proposes again the writes and registrations proposed before <paramref name="proposedBefore"/> that are still
    /// waiting. Safe: a write keeps its session and sequence number, so a second copy that commits is answered as a
    /// replay and never applied twice; a registration applied twice only adds an unused session.
    /// </summary>
    private void ProposeAgain(DateTime proposedBefore)
    {
        var now = DateTime.UtcNow;
        foreach (var pending in _writes.Values)
            if (pending.ProposedAt < proposedBefore && pending.Command is { } command)
            {
                pending.ProposedAt = now;
                _log.Propose(command);
            }
        foreach (var (nonce, pending) in _registering)
            if (pending.ProposedAt < proposedBefore)
            {
                pending.ProposedAt = now;
                _log.Propose(KvCodec.Encode(new KvRegister(nonce)));
            }
    }

    public void ReadConfirmed(long requestId)
    {
        if (_reads.Remove(requestId, out var pending))
            pending.Client.Tell(ServeElectionRead(pending.Request) ?? new ReadResult(_store.Get(pending.Key), _store.AppliedIndex));
    }

    public void ReadDropped(long requestId)
    {
        if (_reads.Remove(requestId, out var pending))
            pending.Client.Tell(new Unavailable("the read could not be confirmed by a leader (leadership changed or unknown)", Unknown: false));
    }

    private void OnWrite(KvWrite write, IActorRef client)
    {
        if ((ValidateElection(write) ?? Validate(write.Key, write switch { Put p => p.Value, Cas c => c.Value, ElectionProtocol.FencedPut f => f.Value, _ => null }, (write as Cas)?.Expected)) is { } rejected)
        {
            client.Tell(rejected);
            return;
        }
        if (PendingWrites + _reads.Count + _sessionReads.Count >= _settings.PendingRequestsMax)
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
        var pending = new PendingWrite(write, client, DateTime.UtcNow + _requestTimeout);
        if (write.Idempotency is { } key) _writesByIdempotencyKey[key.Key] = pending;
        if (_idleSessions.TryPop(out var session))
        {
            pending.Session = session;
            Propose(pending);
        }
        else Register(pending);
    }

    /// <summary>Proposes a registration for the write's new session; the write is proposed once it is applied here.</summary>
    private void Register(PendingWrite pending)
    {
        long nonce;
        do nonce = Random.Shared.NextInt64(1, long.MaxValue); while (_registering.ContainsKey(nonce));
        if (_log.Propose(KvCodec.Encode(new KvRegister(nonce))) is { } dropped)
        {
            Reply(pending, new Unavailable(dropped, Unknown: false));
            return;
        }
        pending.ProposedAt = DateTime.UtcNow;
        _registering[nonce] = pending;
    }

    /// <summary>
    /// A leader whose replicated state has no limits yet proposes its own as the first configuration. Another leader
    /// may have done so already (not yet applied here): only the first version-1 entry in the log applies.
    /// </summary>
    private void ProposeLimits()
    {
        if (!_log.IsLeader || _store.ConfigVersion > 0) return;
        _log.Propose(KvCodec.Encode(new KvConfigure(1, _store.LocalLimits)));
    }

    /// <summary>Once per configuration applied (or restored): a warning for each of this node's settings that differs from the cluster's.</summary>
    private void CheckLimits()
    {
        if (_store.ConfigVersion == _checkedConfigVersion) return;
        _checkedConfigVersion = _store.ConfigVersion;
        if (_logger is null) return;
        var (local, cluster) = (_store.LocalLimits, _store.Limits);
        foreach (var (setting, mine, theirs) in new (string, long, long)[]
                 {
                     ($"{KvSettings.Section}.sessions-max", local.SessionsMax, cluster.SessionsMax),
                     ($"{IdempotencySettings.Section}.ttl-ms", local.IdempotencyTtlMs, cluster.IdempotencyTtlMs),
                     ($"{IdempotencySettings.Section}.records-max", local.IdempotencyRecordsMax, cluster.IdempotencyRecordsMax),
                 })
            if (mine != theirs)
                _logger.Warning("{0} is {1} in this node's configuration but {2} in the cluster's replicated configuration (version {3}); the cluster's value applies here",
                    setting, mine, theirs, _store.ConfigVersion);
    }

    /// <summary>The leader writes its wall-clock time into the log: the replicated clock Idempotency-Key expiry is judged by.</summary>
    private void ProposeLeaderClock()
    {
        if (!_log.IsLeader) return;
        _log.Propose(KvCodec.Encode(new KvClock(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())));
    }

    private void Propose(PendingWrite pending)
    {
        var s = pending.Session!;
        pending.RestoresBefore = _restores;
        KvCommand command = pending.Request switch
        {
            Put p => (KvCommand)new KvPut(s.ClientId, s.Sequence, p.Key, p.Value),
            Delete d => new KvDelete(s.ClientId, s.Sequence, d.Key),
            Cas c => new KvCas(s.ClientId, s.Sequence, c.Key, c.Expected, c.Value),
            ElectionProtocol.ElectionWrite e => ElectionCommand(e, s),
            _ => throw new InvalidOperationException($"unknown write {pending.Request.GetType().Name}"),
        } with { Idempotency = pending.Request.Idempotency };
        var encoded = KvCodec.Encode(command);
        if (command is KvElectionCommand) ProposeLeaderClock(); // judged by the leader clock: a fresh reading just before it
        if (_log.Propose(encoded) is { } dropped)
        {
            // Never handed to the log: the session's sequence number is unused and the slot can go back as it is.
            _idleSessions.Push(s);
            Reply(pending, new Unavailable(dropped, Unknown: false));
            return;
        }
        pending.Command = encoded;
        pending.ProposedAt = DateTime.UtcNow;
        _writes[(s.ClientId, s.Sequence)] = pending;
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
        if (get.Consistency is Consistency.ReadYourWrites or Consistency.Monotonic or Consistency.Bounded)
        {
            OnSessionRead(get, client);
            return;
        }
        if (PendingWrites + _reads.Count + _sessionReads.Count >= _settings.PendingRequestsMax)
        {
            client.Tell(new Unavailable("overloaded: too many requests pending", Unknown: false));
            return;
        }
        var id = ++_nextReadId;
        _reads[id] = new PendingRead(get.Key, client, DateTime.UtcNow + _requestTimeout);
        _log.ConfirmRead(id, lease: get.Consistency == Consistency.Lease);
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
        if (applied.RegisteredClientId is { } clientId)
        {
            // A registration of this node's (another node's, or a duplicate, registers a session nobody here uses).
            if (_registering.Remove(applied.ClientId, out var registered))
            {
                registered.Session = new ClientSession(clientId, 1);
                Propose(registered);
            }
            return;
        }
        if (!_writes.Remove((applied.ClientId, applied.Sequence), out var pending)) return;
        var session = pending.Session!;
        switch (applied.Result.Status)
        {
            case KvStatus.SessionExpired when pending.RestoresBefore != _restores:
                // A snapshot replaced entries since the proposal: this write may have been applied in them, unseen here.
                Reply(pending, new Unavailable("the client session expired, and the write may have taken effect before", Unknown: true));
                return;
            case KvStatus.SessionExpired:
                // The cluster evicted this session, and the write was applied nowhere (its first apply is this one):
                // register a new session and propose it again, at most twice.
                if (pending.Attempts < 3)
                {
                    pending.Attempts++;
                    pending.Session = null;
                    Register(pending);
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

    public void Expire(DateTime now)
    {
        foreach (var (key, pending) in _writes.Where(w => w.Value.Deadline < now).ToList())
        {
            // The outcome is unknown: the entry may still commit. The next request of this session uses the next
            // sequence number, so a late commit of this one is answered StaleSequence and never applied twice.
            _writes.Remove(key);
            Reply(pending, new Unavailable("the write was not confirmed in time", Unknown: true));
            _idleSessions.Push(pending.Session!.Next());
        }
        foreach (var (nonce, pending) in _registering.Where(r => r.Value.Deadline < now).ToList())
        {
            // Never proposed: the write certainly did not take effect (its session may still be registered, unused).
            _registering.Remove(nonce);
            Reply(pending, new Unavailable("no client session could be registered in time", Unknown: false));
        }
        foreach (var (id, pending) in _reads.Where(r => r.Value.Deadline < now).ToList())
        {
            _reads.Remove(id);
            pending.Client.Tell(new Unavailable("the read was not confirmed in time", Unknown: false));
        }
    }

    /// <summary>A write waiting for its answer (one object from request to answer: the Idempotency-Key table holds it too).</summary>
    private sealed class PendingWrite(KvWrite request, IActorRef client, DateTime deadline)
    {
        public KvWrite Request { get; } = request;
        public IActorRef Client { get; } = client;
        public DateTime Deadline { get; } = deadline;
        /// <summary>Retries that joined it while in flight (they get the answer as a replay).</summary>
        public List<IActorRef> Waiters { get; } = [];
        /// <summary>Null while it waits for its session's registration.</summary>
        public ClientSession? Session { get; set; }
        /// <summary>Sessions it was proposed under: a new one after each SessionExpired.</summary>
        public int Attempts { get; set; } = 1;
        /// <summary>Snapshots restored here before its latest proposal.</summary>
        public int RestoresBefore { get; set; }
        /// <summary>The command as proposed (null while it waits for its session), proposed again unchanged.</summary>
        public byte[]? Command { get; set; }
        /// <summary>When it (or its registration) was last proposed.</summary>
        public DateTime ProposedAt { get; set; }
    }

    /// <summary>A read waiting for its confirmation; Request is set for reads other than a key's value (<see cref="ElectionProtocol.ElectionRead"/>).</summary>
    private sealed record PendingRead(string Key, IActorRef Client, DateTime Deadline, KvRequest? Request = null);

    /// <summary>A registered client session: its id (the index of its registration) and the next sequence number.</summary>
    private sealed record ClientSession(long ClientId, long Sequence)
    {
        public ClientSession Next() => this with { Sequence = Sequence + 1 };
    }

    private sealed record LeaderClock
    {
        public static readonly LeaderClock Instance = new();
    }

    private sealed record Repropose
    {
        public static readonly Repropose Instance = new();
    }
}

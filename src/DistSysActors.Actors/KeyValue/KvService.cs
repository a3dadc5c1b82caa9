using Akka.Actor;
using DistSysActors.Actors.Raft;
using DistSysActors.Actors.StateMachine;
using DistSysActors.Core.KeyValue;
using DistSysActors.Core.StateMachine;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.KeyValue;

/// <summary>
/// The replicated key-value service: validation, client sessions, Idempotency-Key handling, pending requests and the
/// <see cref="KeyValueStore"/>, driven through <see cref="IReplicatedStateMachine{TResult}"/>. Any consensus replica
/// that offers an <see cref="IConsensusLog"/> can host it.
/// </summary>
/// <remarks>
/// Client sessions (dissertation 6.3): each write goes out under a session (random client id, sequence from 1) taken
/// from a pool, one request per session at a time, so a proposal that is retried or duplicated by the network is
/// applied once. Requests passed on to the leader are answered when the entry is applied here.
/// </remarks>
public sealed class KvService : IReplicatedService
{
    private readonly IConsensusLog _log;
    private readonly RaftSettings _settings;
    private readonly TimeSpan _requestTimeout;
    private readonly KeyValueStore _store;
    private readonly IReplicatedStateMachine<KvApplied> _machine;

    private readonly Dictionary<(long Client, long Seq), PendingWrite> _writes = new();
    private readonly Dictionary<string, PendingWrite> _writesByIdempotencyKey = new(StringComparer.Ordinal);
    private readonly Dictionary<long, PendingRead> _reads = new();
    private readonly Stack<ClientSession> _idleSessions = new();
    private long _nextReadId = Random.Shared.NextInt64(); // not 0: a restarted node must not reuse an earlier incarnation's read ids

    public KvService(IConsensusLog log, RaftSettings settings, TimeSpan requestTimeout)
    {
        _log = log;
        _settings = settings;
        _requestTimeout = requestTimeout;
        _store = new KeyValueStore(settings.SessionsMax, settings.Idempotency.TtlMs, settings.Idempotency.RecordsMax);
        _machine = _store;
        Timers = [(LeaderClock.Instance, TimeSpan.FromMilliseconds(settings.Idempotency.LeaderClockIntervalMs))];
    }

    public long AppliedIndex => _machine.AppliedIndex;

    public IReadOnlyList<(object Message, TimeSpan Interval)> Timers { get; }

    public ServiceStatus Status => new(_writes.Count, _reads.Count, _store.SessionCount);

    public byte[] Snapshot() => _machine.Snapshot();

    public void Restore(byte[] snapshot) => _machine.Restore(snapshot);

    public void Apply(long index, byte[]? command)
    {
        if (_machine.Apply(index, command) is { } applied) Answer(applied);
    }

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
            case LeaderClock:
                ProposeLeaderClock();
                return true;
            default:
                return false;
        }
    }

    public void LeadershipGained() => ProposeLeaderClock();

    public void ReadConfirmed(long requestId)
    {
        if (_reads.Remove(requestId, out var pending))
            pending.Client.Tell(new ReadResult(_store.Get(pending.Key), _store.AppliedIndex));
    }

    public void ReadDropped(long requestId)
    {
        if (_reads.Remove(requestId, out var pending))
            pending.Client.Tell(new Unavailable("the read could not be confirmed by a leader (leadership changed or unknown)", Unknown: false));
    }

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
        if (!_log.IsLeader) return;
        _log.Propose(KvCodec.Encode(new KvClock(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())));
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
        if (_log.Propose(KvCodec.Encode(command)) is { } dropped)
        {
            // Never handed to the log: the session's sequence number is unused and the slot can go back as it is.
            _idleSessions.Push(s);
            Reply(pending, new Unavailable(dropped, Unknown: false));
            return;
        }
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
        if (_writes.Count + _reads.Count >= _settings.PendingRequestsMax)
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

    public void Expire(DateTime now)
    {
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

    private sealed record LeaderClock
    {
        public static readonly LeaderClock Instance = new();
    }
}

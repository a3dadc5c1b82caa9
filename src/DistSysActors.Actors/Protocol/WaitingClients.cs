using Akka.Actor;

namespace DistSysActors.Actors.Protocol;

/// <summary>
/// The clients a host actor owes an answer, by request id: the actor hands the id to its core, the core answers with
/// it (<see cref="IReadyEnvironment{TMessage}.Answer"/>), and the actor passes the answer on to whoever asked. At most
/// <see cref="Max"/> wait at once (beyond it the actor refuses at once, with <see cref="Overloaded"/>), and a request
/// may expire: the actor then receives the message given to <see cref="Add"/> and tells the client what it knows.
/// </summary>
/// <typeparam name="TTag">What the actor keeps beside the client (what it has learned of the request so far); <see cref="NoTag"/> for nothing.</typeparam>
public sealed class WaitingClients<TTag>
{
    private readonly Dictionary<long, (IActorRef Client, TTag Tag)> _waiting = [];
    private readonly string _what;
    private readonly Func<ITimerScheduler>? _timers;
    private long _lastId;

    /// <param name="what">What waits, for the refusal ("requests", "writes waiting for the disk").</param>
    /// <param name="max">How many may wait at once.</param>
    /// <param name="timers">The actor's timers, when requests expire (read when needed: Akka sets them after the constructor).</param>
    public WaitingClients(string what, int max, Func<ITimerScheduler>? timers = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        _what = what;
        Max = max;
        _timers = timers;
    }

    public int Max { get; }

    public int Count => _waiting.Count;

    /// <summary>The refusal to give a new client while <see cref="Max"/> wait, else null.</summary>
    public string? Overloaded => _waiting.Count >= Max ? $"overloaded: {Max} {_what}" : null;

    /// <summary>A request id not used before by this actor incarnation (ids start at 1).</summary>
    public long NextId() => ++_lastId;

    /// <summary>
    /// <paramref name="client"/> waits for the answer to <paramref name="id"/>; after <paramref name="expireAfter"/>, if
    /// still waiting, the actor receives <paramref name="expired"/> (it then calls <see cref="TryRemove"/> and answers).
    /// </summary>
    public void Add(long id, IActorRef client, TTag tag, TimeSpan? expireAfter = null, object? expired = null)
    {
        _waiting[id] = (client, tag);
        if (expireAfter is not { } after) return;
        if (_timers is null || expired is null) throw new InvalidOperationException("an expiring request needs the actor's timers and the message to send on expiry");
        _timers().StartSingleTimer(TimerKey(id), expired, after < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : after);
    }

    /// <summary>Replaces what is kept beside a waiting client; false when it no longer waits.</summary>
    public bool SetTag(long id, TTag tag)
    {
        if (!_waiting.TryGetValue(id, out var waiting)) return false;
        _waiting[id] = (waiting.Client, tag);
        return true;
    }

    /// <summary>The client waiting for <paramref name="id"/>, no longer waiting (its expiry cancelled); false when none waits.</summary>
    public bool TryRemove(long id, out IActorRef client, out TTag tag)
    {
        if (!_waiting.Remove(id, out var waiting))
        {
            (client, tag) = (ActorRefs.Nobody, default!);
            return false;
        }
        _timers?.Invoke().Cancel(TimerKey(id));
        (client, tag) = waiting;
        return true;
    }

    /// <inheritdoc cref="TryRemove(long, out IActorRef, out TTag)"/>
    public bool TryRemove(long id, out IActorRef client) => TryRemove(id, out client, out _);

    private (string, long) TimerKey(long id) => (_what, id);
}

/// <summary>Nothing kept beside a waiting client.</summary>
public readonly record struct NoTag;

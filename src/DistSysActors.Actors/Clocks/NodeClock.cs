using DistSysActors.Core.Clocks;

namespace DistSysActors.Actors.Clocks;

/// <summary>
/// A node's physical clock and hybrid logical clock, shared by the actors that read time: the
/// <see cref="ClockActor"/> disciplines it, the network component stamps and merges HLC timestamps with it.
/// Raw time = host clock + <see cref="InjectedSkew"/>; disciplined time = raw + the synchronizer's
/// correction. Thread-safe: every reading and every change of the synchronizer's state happens under one lock,
/// because the cores it wraps (<see cref="DisciplinedClock"/>, <see cref="HybridLogicalClock"/>) are single-threaded.
/// </summary>
public sealed class NodeClock
{
    private readonly object _gate = new();
    private readonly Func<long> _hostMs;
    private readonly HybridLogicalClock _hlc;
    private Func<long, long>? _discipline;
    private long _hlcRejected;
    private HlcReceiveResult.Rejected? _lastRejection;

    /// <param name="hostMs">The host clock in ms since the Unix epoch; tests pass a scripted one. Defaults to the system wall clock.</param>
    public NodeClock(InjectedSkew skew, long hlcMaxOffsetMs, Func<long>? hostMs = null)
    {
        _hostMs = hostMs ?? SystemHostMs;
        Skew = skew;
        _hlc = new HybridLogicalClock(hlcMaxOffsetMs);
    }

    /// <summary>A node clock from the distsys.clock settings, its drift counted from now.</summary>
    public static NodeClock Create(ClockSettings settings, Func<long>? hostMs = null)
    {
        var host = hostMs ?? SystemHostMs;
        return new NodeClock(new InjectedSkew(settings.SkewMs, settings.DriftPpm, host()), settings.HlcMaxOffsetMs, host);
    }

    /// <summary>The system wall clock: the one clock every process on the host shares.</summary>
    public static long SystemHostMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public InjectedSkew Skew { get; }

    public long HlcMaxOffsetMs => _hlc.MaxOffsetMs;

    /// <summary>The undisturbed host clock.</summary>
    public long HostMs() => _hostMs();

    /// <summary>The node's raw physical clock: host clock plus the injected skew and drift.</summary>
    public long RawMs() => Skew.ReadMs(_hostMs());

    /// <summary>The injected error at this moment (raw minus host): what synchronization should remove.</summary>
    public long InjectedOffsetMs()
    {
        var host = _hostMs();
        return Skew.ReadMs(host) - host;
    }

    /// <summary>The disciplined (synchronized) clock.</summary>
    public long ReadMs()
    {
        lock (_gate) return ReadLocked(RawMs());
    }

    /// <summary>Installs how raw time becomes disciplined time (the synchronizer's <c>ReadMs(raw)</c>); called before any reading depends on it.</summary>
    public void Discipline(Func<long, long> rawToDisciplinedMs)
    {
        lock (_gate) _discipline = rawToDisciplinedMs;
    }

    /// <summary>Runs <paramref name="action"/> with the raw time under the clock's lock, so a synchronizer can change its state while others read.</summary>
    public T Synchronized<T>(Func<long, T> action)
    {
        lock (_gate) return action(RawMs());
    }

    /// <summary>An HLC send or local event at the disciplined time.</summary>
    public HlcTimestamp Stamp()
    {
        lock (_gate) return _hlc.Now(ReadLocked(RawMs()));
    }

    /// <summary>
    /// Merges a remote HLC timestamp at the disciplined time. One more than <see cref="HlcMaxOffsetMs"/> ahead is not
    /// merged (the clock is unchanged) and is counted in <see cref="HlcRejected"/>.
    /// </summary>
    public HlcReceiveResult Receive(HlcTimestamp remote)
    {
        lock (_gate)
        {
            var result = _hlc.Receive(remote, ReadLocked(RawMs()));
            if (result is HlcReceiveResult.Rejected rejected)
            {
                _hlcRejected++;
                _lastRejection = rejected;
            }
            return result;
        }
    }

    /// <summary>The latest HLC timestamp issued or merged.</summary>
    public HlcTimestamp Hlc
    {
        get { lock (_gate) return _hlc.Last; }
    }

    /// <summary>Remote timestamps not merged because they were too far ahead.</summary>
    public long HlcRejected
    {
        get { lock (_gate) return _hlcRejected; }
    }

    public HlcReceiveResult.Rejected? LastRejection
    {
        get { lock (_gate) return _lastRejection; }
    }

    private long ReadLocked(long rawMs) => _discipline is { } d ? d(rawMs) : rawMs;
}

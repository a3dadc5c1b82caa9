using System.Diagnostics;
using Akka.Actor;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Protocol;

/// <summary>The one timer message of every protocol host.</summary>
public sealed record ProtocolTick
{
    public static readonly ProtocolTick Instance = new();
}

/// <summary>Asks a protocol host to execute its core's buffered Readies (sent to itself when flushes are batched).</summary>
public sealed record ProtocolFlush
{
    public static readonly ProtocolFlush Instance = new();
}

/// <summary>How a protocol host runs its core.</summary>
/// <param name="Service">Network service name the host registers (and, unless overridden, sends to).</param>
/// <param name="GroupId">Distinguishes several instances of one protocol on a node (e.g. a channel or a Raft group); null for one.</param>
/// <param name="TickInterval">Period of <see cref="ProtocolTick"/>; null for a core without timers.</param>
/// <param name="FirstTickAfter">Delay of the first tick; null waits one interval.</param>
/// <param name="BatchFlushes">Execute Readies once per burst of messages (a flush sent to itself) instead of after each one.</param>
/// <param name="Seed">Seed of the host's random source; null derives one from the service and node.</param>
public sealed record ProtocolHostSettings(
    string Service, string? GroupId = null, TimeSpan? TickInterval = null, TimeSpan? FirstTickAfter = null, bool BatchFlushes = false, long? Seed = null)
{
    /// <summary>The name registered with the network component: the service, suffixed by the group when there is one.</summary>
    public string RegisteredService => GroupId is null ? Service : $"{Service}/{GroupId}";
}

/// <summary>
/// What every protocol actor does the same way, whatever its base class: the clock its core sees, a seeded random
/// source, registration with the network component, the tick timer, sending through the network and flush batching.
/// </summary>
public sealed class ProtocolHost<TMessage, TReady>
    where TMessage : notnull
    where TReady : class, IReady<TMessage>
{
    private readonly IActorRef _network;
    private readonly Func<long> _clockMs;
    private bool _flushScheduled;

    public ProtocolHost(NodeId self, ProtocolHostSettings settings, IActorRef network, Func<long>? clockMs)
    {
        Self = self;
        Settings = settings;
        _network = network;
        _clockMs = clockMs ?? MonotonicMs;
        // Stable per service and node, so a run's random choices repeat unless a seed is given.
        Random = new DeterministicRandom(settings.Seed ?? ((long)StableHash(settings.RegisteredService) << 16 ^ self.Value));
    }

    public NodeId Self { get; }
    public ProtocolHostSettings Settings { get; }
    public DeterministicRandom Random { get; }
    public long NowMs => _clockMs();

    public static long MonotonicMs() => Stopwatch.GetTimestamp() * 1000 / Stopwatch.Frequency;

    /// <summary>Registers <paramref name="actor"/> with the network component and starts the tick timer.</summary>
    public void Start(IActorRef actor, ITimerScheduler timers)
    {
        _network.Tell(new NetworkProtocol.Register(Settings.RegisteredService, actor));
        if (Settings.TickInterval is not { } interval) return;
        timers.StartPeriodicTimer(ProtocolTick.Instance, ProtocolTick.Instance, Settings.FirstTickAfter ?? interval, interval);
    }

    public void Send(NodeId to, string service, object payload) => _network.Tell(new NetworkProtocol.Send(to, service, payload));

    /// <summary>Executes the core's Readies now, or, when batching, once the messages already queued are handled.</summary>
    public void Flush(IProtocolCore<TMessage, TReady> core, IReadyEnvironment<TMessage> environment, IActorRef self)
    {
        if (!Settings.BatchFlushes) { ReadyExecutor.Drain(core, environment); return; }
        if (core.HasReady) ScheduleFlush(self);
    }

    /// <summary>The batched flush arrived: execute everything buffered since it was scheduled.</summary>
    public void FlushNow(IProtocolCore<TMessage, TReady> core, IReadyEnvironment<TMessage> environment)
    {
        FlushArrived();
        ReadyExecutor.Drain(core, environment);
    }

    /// <summary>Sends <see cref="ProtocolFlush"/> to <paramref name="self"/> unless one is already on its way.</summary>
    public void ScheduleFlush(IActorRef self)
    {
        if (_flushScheduled) return;
        _flushScheduled = true;
        self.Tell(ProtocolFlush.Instance);
    }

    /// <summary>The scheduled <see cref="ProtocolFlush"/> is being handled; the next Flush schedules another.</summary>
    public void FlushArrived() => _flushScheduled = false;

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text) hash = unchecked(hash * 31 + c);
        return hash;
    }
}

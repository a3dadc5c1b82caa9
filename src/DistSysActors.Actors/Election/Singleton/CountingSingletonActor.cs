using System.Globalization;
using Akka.Actor;
using Akka.Event;

namespace DistSysActors.Actors.Election.Singleton;

/// <summary>
/// The Cluster Singleton itself, deliberately tiny: it counts ticks, answers <see cref="SingletonProtocol.GetInstance"/>
/// with its node and incarnation, and appends each tick to the ledger (a file every node of a local cluster shares),
/// standing for the external resource a real singleton writes to without fencing. Two instances at once show up there
/// as interleaved incarnations.
/// </summary>
public sealed class CountingSingletonActor : ReceiveActor, IWithTimers
{
    private sealed record Tick
    {
        public static readonly Tick Default = new();
    }

    private readonly int _nodeId;
    private readonly string _incarnation;
    private readonly IActorRef _host;
    private readonly TimeSpan _tickInterval;
    private readonly string? _ledgerPath;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _count;

    public CountingSingletonActor(int nodeId, IActorRef host, SingletonSettings settings, string? ledgerPath, Func<long> clockMs)
    {
        _nodeId = nodeId;
        _host = host;
        _tickInterval = TimeSpan.FromMilliseconds(settings.TickMs);
        _ledgerPath = ledgerPath;
        // New at every start: an instance started again (here or elsewhere) is told apart from the one before.
        _incarnation = string.Create(CultureInfo.InvariantCulture, $"n{nodeId}-{clockMs()}");
        Receive<Tick>(_ =>
        {
            _count++;
            Append();
            _host.Tell(new SingletonProtocol.InstanceCounted(_incarnation, _count));
        });
        Receive<SingletonProtocol.GetInstance>(_ => Sender.Tell(new SingletonProtocol.Instance(_nodeId, _incarnation, _count)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(int nodeId, IActorRef host, SingletonSettings settings, string? ledgerPath, Func<long> clockMs) =>
        Akka.Actor.Props.Create(() => new CountingSingletonActor(nodeId, host, settings, ledgerPath, clockMs));

    protected override void PreStart()
    {
        _log.Info("cluster singleton {0} started on node {1}", _incarnation, _nodeId);
        _host.Tell(new SingletonProtocol.InstanceStarted(_incarnation));
        Append();
        Timers.StartPeriodicTimer("tick", Tick.Default, _tickInterval);
    }

    protected override void PostStop()
    {
        _log.Info("cluster singleton {0} stopped on node {1} after {2} ticks", _incarnation, _nodeId, _count);
        _host.Tell(new SingletonProtocol.InstanceStopped(_incarnation));
    }

    /// <summary>One line per write: "node incarnation count"; a failed write is logged, never fatal (the ledger only shows what ran).</summary>
    private void Append()
    {
        if (_ledgerPath is null) return;
        try
        {
            File.AppendAllText(_ledgerPath, string.Create(CultureInfo.InvariantCulture, $"{_nodeId} {_incarnation} {_count}\n"));
        }
        catch (IOException e)
        {
            _log.Warning("cluster singleton {0}: cannot append to {1}: {2}", _incarnation, _ledgerPath, e.Message);
        }
    }
}

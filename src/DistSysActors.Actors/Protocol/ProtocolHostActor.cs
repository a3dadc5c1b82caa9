using Akka.Actor;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Protocol;

/// <summary>
/// An actor hosting one protocol core that persists nothing: it feeds the core messages and ticks with its injected
/// clock and executes each Ready through <see cref="ReadyExecutor"/> with itself as the environment (send through the
/// network component, apply, answer). Subclasses create the core, say what applies and answers mean, and report status.
/// </summary>
public abstract class ProtocolHostActor<TMessage, TReady> : ReceiveActor, IWithTimers, IReadyEnvironment<TMessage>
    where TMessage : notnull
    where TReady : class, IReady<TMessage>
{
    protected ProtocolHostActor(NodeId self, ProtocolHostSettings settings, IActorRef network, Func<long>? clockMs)
    {
        Host = new ProtocolHost<TMessage, TReady>(self, settings, network, clockMs);
        _tracing = new HostTracing(settings.Service);
        Receive<ProtocolTick>(_ => OnTick());
        Receive<ProtocolFlush>(_ => Host.FlushNow(Core, this));
    }

    private readonly HostTracing _tracing;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Handles each message under its trace (<see cref="HostTracing"/>), so the steps it logs and the messages it sends carry it.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        using var scope = TraceScope.Enter(_tracing.Enter(message, Context.System));
        return base.AroundReceive(receive, message);
    }

    protected ProtocolHost<TMessage, TReady> Host { get; }

    protected abstract IProtocolCore<TMessage, TReady> Core { get; }

    protected NodeId Node => Host.Self;

    protected long NowMs => Host.NowMs;

    /// <summary>Call at the end of the subclass's constructor, once the core exists.</summary>
    protected void Start() => Host.Start(Self, Timers);

    /// <summary>Handles one message and executes what it caused.</summary>
    protected void StepCore(TMessage message)
    {
        Drive(now => Core.Step(message, now));
        Flush();
    }

    protected virtual void OnTick()
    {
        Drive(now => Core.Tick(now));
        Flush();
    }

    /// <summary>Calls the core with the clock's reading; a host whose core shares state with other threads takes its lock here.</summary>
    protected virtual void Drive(Action<long> call) => call(NowMs);

    protected void Flush() => Host.Flush(Core, this, Self);

    /// <summary>Answers <typeparamref name="TQuery"/> with <paramref name="status"/>.</summary>
    protected void ReceiveStatus<TQuery>(Func<object> status) => Receive<TQuery>(_ => Sender.Tell(status()));

    public virtual void Send(Outgoing<TMessage> outgoing) => Host.Send(outgoing.To, Host.Settings.RegisteredService, outgoing.Message);

    public void Persist(IReadOnlyList<object> writes, Action onDurable) =>
        throw new InvalidOperationException($"{GetType().Name} has no journal, but its core asked to persist {writes.Count} writes");

    public virtual void Apply(object entry) => throw new InvalidOperationException($"{GetType().Name} has no state machine for {entry.GetType().Name}");

    public virtual void Answer(object answer) { }
}

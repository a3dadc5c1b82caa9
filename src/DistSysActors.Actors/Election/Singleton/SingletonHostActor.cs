using Akka.Actor;
using Akka.Cluster.Tools.Singleton;

namespace DistSysActors.Actors.Election.Singleton;

/// <summary>
/// <c>/user/distsys/singleton</c> on every node: a <see cref="ClusterSingletonManager"/> (child <c>manager</c>) that
/// runs <see cref="CountingSingletonActor"/> on the oldest Up member, and a <see cref="ClusterSingletonProxy"/> (child
/// <c>proxy</c>) that reaches it wherever it runs. Answers <see cref="SingletonProtocol.GetStatus"/> with what the proxy
/// reached within the ask timeout and the instance this node hosts now.
/// </summary>
public sealed class SingletonHostActor : ReceiveActor
{
    public const string SingletonName = "counter";

    private readonly IActorRef _proxy;
    private string? _localIncarnation;
    private long _localCount;

    public SingletonHostActor(int nodeId, SingletonSettings settings, string? ledgerPath, Func<long> clockMs)
    {
        var system = Context.System;
        Context.ActorOf(ClusterSingletonManager.Props(
                CountingSingletonActor.Props(nodeId, Self, settings, ledgerPath, clockMs),
                PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithSingletonName(SingletonName)),
            "manager");
        _proxy = Context.ActorOf(ClusterSingletonProxy.Props(
                Self.Path.ToStringWithoutAddress() + "/manager",
                ClusterSingletonProxySettings.Create(system).WithSingletonName(SingletonName)),
            "proxy");
        var askTimeout = TimeSpan.FromMilliseconds(settings.AskTimeoutMs);

        Receive<SingletonProtocol.InstanceStarted>(m => (_localIncarnation, _localCount) = (m.Incarnation, 0));
        Receive<SingletonProtocol.InstanceCounted>(m => { if (m.Incarnation == _localIncarnation) _localCount = m.Count; });
        Receive<SingletonProtocol.InstanceStopped>(m => { if (m.Incarnation == _localIncarnation) _localIncarnation = null; });
        Receive<SingletonProtocol.GetStatus>(_ =>
        {
            var (incarnation, count) = (_localIncarnation, _localCount);
            _proxy.Ask<SingletonProtocol.Instance>(SingletonProtocol.GetInstance.Default, askTimeout)
                .ContinueWith(t => new SingletonProtocol.Status(t.IsCompletedSuccessfully ? t.Result : null, incarnation, count, incarnation is null ? 0 : 1),
                    TaskScheduler.Default)
                .PipeTo(Sender);
        });
    }

    public static Props Props(int nodeId, SingletonSettings settings, string? ledgerPath, Func<long> clockMs) =>
        Akka.Actor.Props.Create(() => new SingletonHostActor(nodeId, settings, ledgerPath, clockMs));
}

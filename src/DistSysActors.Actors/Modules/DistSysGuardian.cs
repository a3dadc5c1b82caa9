using Akka.Actor;

namespace DistSysActors.Actors.Modules;

/// <summary>
/// <c>/user/distsys</c>: the parent of every module's actor, so a node's actors live under one path and an embedding
/// application's own actors stay apart. Modules are started one at a time, in the order asked, each given the network
/// component started before it.
/// </summary>
public sealed class DistSysGuardian : ReceiveActor
{
    public const string Name = "distsys";

    /// <summary>Start <paramref name="Module"/>'s actor as a child; answered with <see cref="ModuleStarted"/> or a <see cref="Status.Failure"/>.</summary>
    public sealed record StartModule(DistSysModule Module) : INoSerializationVerificationNeeded;

    public sealed record ModuleStarted(string Name, IActorRef Actor) : INoSerializationVerificationNeeded;

    public DistSysGuardian(DistSysModuleContext context)
    {
        Receive<StartModule>(start =>
        {
            try
            {
                if (!Context.Child(start.Module.Name).IsNobody())
                    throw new InvalidOperationException($"module '{start.Module.Name}' is already running on this node");
                var network = start.Module is NetworkModule ? ActorRefs.Nobody : Context.Child(new NetworkModule().Name);
                if (start.Module is not NetworkModule && network.IsNobody())
                    throw new InvalidOperationException($"module '{start.Module.Name}' needs the network module started first");
                var actor = Context.ActorOf(start.Module.CreateProps(context with { Network = network }), start.Module.Name);
                Sender.Tell(new ModuleStarted(start.Module.Name, actor));
            }
            catch (Exception e)
            {
                Sender.Tell(new Status.Failure(e));
            }
        });
    }

    public static Props Props(DistSysModuleContext context) => Akka.Actor.Props.Create(() => new DistSysGuardian(context));
}

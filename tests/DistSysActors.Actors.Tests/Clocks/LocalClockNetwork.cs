using Akka.Actor;
using DistSysActors.Actors.Network;
using DistSysActors.Core;

namespace DistSysActors.Actors.Tests.Clocks;

/// <summary>A stand-in network component for clock actors: delivers each payload at once to the node it is addressed to.</summary>
public sealed class LocalClockNetwork : ReceiveActor
{
    public sealed record Attach(NodeId Node, IActorRef Actor);

    private readonly Dictionary<NodeId, IActorRef> _nodes = new();

    public LocalClockNetwork()
    {
        Receive<Attach>(a => _nodes[a.Node] = a.Actor);
        Receive<NetworkProtocol.Register>(_ => { });
        Receive<NetworkProtocol.Send>(s => { if (_nodes.TryGetValue(s.To, out var target)) target.Tell(s.Payload, Self); });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new LocalClockNetwork());
}

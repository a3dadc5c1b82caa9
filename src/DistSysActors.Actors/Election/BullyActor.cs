using Akka.Actor;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Election;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Election;

/// <summary>Runs the Bully election (<see cref="BullyNode"/>) over the node's network component; answers <see cref="BullyProtocol.GetStatus"/>.</summary>
public sealed class BullyActor : ProtocolHostActor<BullyProtocol.BullyMessage, ProtocolReady<BullyProtocol.BullyMessage>>
{
    private readonly BullyNode _node;

    public BullyActor(NodeId self, IReadOnlyCollection<NodeId> members, IActorRef network, BullySettings settings)
        : base(self, new ProtocolHostSettings(BullyProtocol.Service, TickInterval: TimeSpan.FromMilliseconds(settings.TickMs)), network, null)
    {
        _node = new BullyNode(self, members, settings.Core);
        Receive<BullyProtocol.BullyMessage>(StepCore);
        ReceiveStatus<BullyProtocol.GetStatus>(_node.GetStatus);
        Start();
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> members, IActorRef network, BullySettings settings) =>
        Akka.Actor.Props.Create(() => new BullyActor(self, members, network, settings));

    protected override IProtocolCore<BullyProtocol.BullyMessage, ProtocolReady<BullyProtocol.BullyMessage>> Core => _node;
}

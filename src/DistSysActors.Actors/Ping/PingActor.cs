using Akka.Actor;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Ping;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Ping;

/// <summary>Pings every peer each interval through the node's network component and answers pings with pongs.</summary>
public sealed class PingActor : ProtocolHostActor<PingProtocol.PingMessage, ProtocolReady<PingProtocol.PingMessage>>
{
    private readonly PingPong _pingPong;

    public PingActor(NodeId self, IReadOnlyCollection<NodeId> peers, IActorRef network, TimeSpan interval)
        : base(self, new ProtocolHostSettings(PingProtocol.Service, TickInterval: interval), network, null)
    {
        _pingPong = new PingPong(self, peers);
        Receive<PingProtocol.PingMessage>(StepCore);
        ReceiveStatus<PingProtocol.GetStats>(() => _pingPong.Stats(NowMs));
        Start();
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> peers, IActorRef network, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new PingActor(self, peers, network, interval));

    protected override IProtocolCore<PingProtocol.PingMessage, ProtocolReady<PingProtocol.PingMessage>> Core => _pingPong;
}

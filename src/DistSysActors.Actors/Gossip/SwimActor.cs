using Akka.Actor;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Gossip;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Gossip;

/// <summary>
/// SWIM membership on a node: hosts a <see cref="SwimMembership"/> core, its messages through the network component
/// (so faults apply), its view changes published on the EventStream as <see cref="MemberStateChanged"/>.
/// </summary>
public sealed class SwimActor : ProtocolHostActor<SwimMessage, ProtocolReady<SwimMessage>>
{
    private readonly SwimMembership _swim;

    public SwimActor(NodeId self, IReadOnlyCollection<NodeId> seeds, GossipSettings settings, IActorRef network, long seed, Func<long>? clockMs = null)
        : base(self, new ProtocolHostSettings(GossipProtocol.SwimService, TickInterval: TimeSpan.FromMilliseconds(settings.TickMs)), network, clockMs)
    {
        _swim = new SwimMembership(self, seeds, settings.Swim, new DeterministicRandom(seed));
        Receive<SwimMessage>(StepCore);
        ReceiveStatus<GossipProtocol.GetSwimStatus>(() => _swim.Status());
        Receive<GossipProtocol.Leave>(_ =>
        {
            Drive(now => _swim.Leave(now));
            Flush();
            Sender.Tell(new GossipProtocol.Left());
        });
        Start();
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> seeds, GossipSettings settings, IActorRef network, long seed, Func<long>? clockMs = null) =>
        Akka.Actor.Props.Create(() => new SwimActor(self, seeds, settings, network, seed, clockMs));

    protected override IProtocolCore<SwimMessage, ProtocolReady<SwimMessage>> Core => _swim;

    public override void Answer(object answer) => Context.System.EventStream.Publish(answer);
}

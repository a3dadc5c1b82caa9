using Akka.Actor;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Gossip;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Gossip;

/// <summary>
/// The anti-entropy AP store on a node: hosts an <see cref="ApStore"/> core, answers local writes at once (whatever
/// the network does) and reads from the local replica, and exchanges digests with a random peer each interval.
/// Its clock is the node's physical clock (skew included), which the store's hybrid logical clock builds on.
/// </summary>
public sealed class ApStoreActor : ProtocolHostActor<AntiEntropyMessage, ProtocolReady<AntiEntropyMessage>>
{
    private readonly ApStore _store;

    public ApStoreActor(NodeId self, IReadOnlyCollection<NodeId> peers, GossipSettings settings, IActorRef network, long seed, Func<long> clockMs)
        : base(self, new ProtocolHostSettings(GossipProtocol.ApService, TickInterval: TimeSpan.FromMilliseconds(settings.TickMs)), network, clockMs)
    {
        _store = new ApStore(self, peers, settings.Ap, new DeterministicRandom(seed));
        Receive<AntiEntropyMessage>(StepCore);
        ReceiveStatus<GossipProtocol.GetApStatus>(() => _store.Status());
        Receive<GossipProtocol.ApGet>(get => Sender.Tell(new GossipProtocol.ApRead(_store.Get(get.Key))));
        Receive<GossipProtocol.ApWrite>(write =>
        {
            ApWriteResult result = null!;
            Drive(now => result = write.Value is null ? _store.Delete(write.Key, now) : _store.Put(write.Key, write.Value, now));
            Flush();
            Sender.Tell(result);
        });
        Start();
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> peers, GossipSettings settings, IActorRef network, long seed, Func<long> clockMs) =>
        Akka.Actor.Props.Create(() => new ApStoreActor(self, peers, settings, network, seed, clockMs));

    protected override IProtocolCore<AntiEntropyMessage, ProtocolReady<AntiEntropyMessage>> Core => _store;
}

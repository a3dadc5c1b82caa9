using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.ReliableDelivery;
using static DistSysActors.Actors.ReliableDelivery.DeliveryProtocol;

namespace DistSysActors.Actors.ReliableDelivery;

/// <summary>
/// The sending half of the reliable delivery pair: hosts an <see cref="Outbox"/>, persists each accepted message
/// before its first send, sends and redelivers through the node's network component until the receiver acknowledges,
/// and persists each acknowledgement. Snapshots every <c>snapshot-every-events</c> keep the journal bounded.
/// </summary>
/// <remarks>
/// Akka.Persistence's AtLeastOnceDelivery is not used: it addresses destinations by ActorPath rather than NodeId through
/// the network component, numbers deliveries across all destinations (so a receiver could not keep a gap-free
/// high-water mark per sender), and keeps its state where the simulator cannot run it.
/// </remarks>
public sealed class DeliverySenderActor : DurableProtocolHostActor<DeliveryMessage, ProtocolReady<DeliveryMessage>>
{
    private readonly string _channel;
    private readonly DeliverySettings _settings;
    private readonly Dictionary<long, (IActorRef Client, string Key)> _clients = new();
    private Outbox _outbox;
    private long _nextRequestId;

    public DeliverySenderActor(NodeId self, string channel, DeliverySettings settings, IActorRef network)
        : base(self, new ProtocolHostSettings(SenderService(channel),
            TickInterval: TimeSpan.FromMilliseconds(Math.Max(1, settings.RedeliverIntervalMs / 2))), network, null, settings.SnapshotEveryEvents)
    {
        _channel = channel;
        _settings = settings;
        _outbox = new Outbox(self, settings.OutboxLimits);
        PersistenceId = PersistenceIdOf(channel, self);

        Command<Deliver>(d =>
        {
            var requestId = ++_nextRequestId;
            _clients[requestId] = (Sender, d.Key);
            _outbox.Accept(requestId, d.To, d.Key, d.Payload, NowMs);
            Flush();
        });
        Command<DeliveryAck>(StepCore);
        CommandStatus<GetOutboxStatus>(() => new OutboxStatus(_outbox.PendingCount, _outbox.SentCount, _outbox.RedeliveredCount,
            _outbox.ConfirmedCount, _outbox.MaxAttempts, _outbox.ToSnapshot().LastSeqs));
    }

    public static Props Props(NodeId self, string channel, DeliverySettings settings, IActorRef network) =>
        Akka.Actor.Props.Create(() => new DeliverySenderActor(self, channel, settings, network));

    public static string PersistenceIdOf(string channel, NodeId self) => $"delivery-out-{channel}-{self.Value}";

    public override string PersistenceId { get; }

    protected override IProtocolCore<DeliveryMessage, ProtocolReady<DeliveryMessage>> Core => _outbox;

    protected override void RestoreSnapshot(object snapshot)
    {
        if (snapshot is OutboxSnapshot s) _outbox = Outbox.FromSnapshot(Node, _settings.OutboxLimits, s);
    }

    protected override void Replay(object journalEvent)
    {
        if (journalEvent is OutboxEvent e) _outbox.Apply(e);
    }

    protected override object SnapshotState() => _outbox.ToSnapshot();

    protected override void OnRecovered() =>
        Log.Info("delivery sender {0} of node {1} recovered {2} unconfirmed messages", _channel, Node, _outbox.PendingCount);

    /// <summary>Envelopes go to the receiver of this channel on the destination node.</summary>
    public override void Send(Outgoing<DeliveryMessage> outgoing) => Host.Send(outgoing.To, ReceiverService(_channel), outgoing.Message);

    public override void Answer(object answer)
    {
        switch (answer)
        {
            case OfferAnswer offer when _clients.Remove(offer.RequestId, out var request):
                request.Client.Tell(offer.Result switch
                {
                    OfferResult.Accepted a => new Accepted(a.Event.Key, a.Event.To, a.Event.Seq),
                    OfferResult.Duplicate d => new AlreadyAccepted(d.Key, d.Confirmed),
                    OfferResult.Full f => new Refused(request.Key, $"outbox full: {f.PendingMax} unconfirmed messages"),
                    OfferResult.Invalid i => new Refused(request.Key, i.Reason),
                    _ => (DeliverResult)new Refused(request.Key, $"unknown offer result {offer.Result.GetType().Name}"),
                });
                break;
            case DeliveryDone done:
                Context.System.EventStream.Publish(new Confirmed(_channel, done.To, done.Seq, done.Key));
                break;
        }
    }
}

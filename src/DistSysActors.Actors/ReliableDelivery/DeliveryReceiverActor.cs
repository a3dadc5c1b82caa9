using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.ReliableDelivery;
using static DistSysActors.Actors.ReliableDelivery.DeliveryProtocol;

namespace DistSysActors.Actors.ReliableDelivery;

/// <summary>
/// The receiving half of the reliable delivery pair: checks each envelope against a <see cref="DedupTable"/>; a new
/// message is persisted as one <see cref="MessageProcessed"/> event (its id and its effect together), then applied to
/// the <see cref="IDeliveryHandler"/>, then acknowledged. A duplicate is acknowledged without being applied, so a
/// redelivery after a crash between persist and acknowledgement is confirmed but takes effect once.
/// </summary>
public sealed class DeliveryReceiverActor : DurableProtocolHostActor<DeliveryMessage, ProtocolReady<DeliveryMessage>>
{
    private readonly string _channel;
    private readonly DeliverySettings _settings;
    private readonly IDeliveryHandler _handler;
    private DeliveryReceiver _receiver;

    public DeliveryReceiverActor(NodeId self, string channel, DeliverySettings settings, IActorRef network, Func<IDeliveryHandler> handlerFactory)
        : base(self, new ProtocolHostSettings(ReceiverService(channel)), network, null, settings.SnapshotEveryEvents)
    {
        _channel = channel;
        _settings = settings;
        _handler = handlerFactory();
        _receiver = new DeliveryReceiver(self, new DedupTable(settings.DedupIdsMax, settings.DedupSendersMax));
        PersistenceId = PersistenceIdOf(channel, self);

        Command<DeliveryEnvelope>(StepCore);
        CommandStatus<GetReceiverStatus>(() => new ReceiverStatus(_receiver.Processed, _receiver.DuplicatesAcked, _receiver.Refused,
            _receiver.Table.IdsHeld, _receiver.Table.ToSnapshot().Senders));
        CommandStatus<GetHandlerState>(() => _handler.Snapshot());
    }

    /// <param name="handlerFactory">Creates the handler of each incarnation; its state is rebuilt from the journal.</param>
    public static Props Props(NodeId self, string channel, DeliverySettings settings, IActorRef network, Func<IDeliveryHandler> handlerFactory) =>
        Akka.Actor.Props.Create(() => new DeliveryReceiverActor(self, channel, settings, network, handlerFactory));

    public static string PersistenceIdOf(string channel, NodeId self) => $"delivery-in-{channel}-{self.Value}";

    public override string PersistenceId { get; }

    protected override IProtocolCore<DeliveryMessage, ProtocolReady<DeliveryMessage>> Core => _receiver;

    protected override void RestoreSnapshot(object snapshot)
    {
        if (snapshot is not DeliveryReceiverSnapshot s) return;
        _receiver = new DeliveryReceiver(Node, DedupTable.FromSnapshot(s.Dedup, _settings.DedupIdsMax, _settings.DedupSendersMax));
        _handler.Restore(s.HandlerState);
    }

    protected override void Replay(object journalEvent)
    {
        if (journalEvent is not MessageProcessed e) return;
        _receiver.Replay(new DeliveryProcessed(e.From, e.Seq, e.Key, e.Payload));
        _handler.Apply(e.From, e.Key, e.Payload, recovering: true);
    }

    protected override object SnapshotState() => new DeliveryReceiverSnapshot(_receiver.Table.ToSnapshot(), _handler.Snapshot());

    /// <summary>The journal keeps the receiver's own event type, so journals written before stay readable.</summary>
    protected override object JournalEvent(object write) =>
        write is DeliveryProcessed p ? new MessageProcessed(p.From, p.Seq, p.Key, p.Payload) : write;

    protected override void OnRecovered() =>
        Log.Info("delivery receiver {0} of node {1} recovered {2} senders", _channel, Node, _receiver.Table.SenderCount);

    /// <summary>Acknowledgements go to the sender of this channel on the envelope's node.</summary>
    public override void Send(Outgoing<DeliveryMessage> outgoing) => Host.Send(outgoing.To, SenderService(_channel), outgoing.Message);

    public override void Apply(object entry)
    {
        if (entry is DeliveryProcessed p) _handler.Apply(p.From, p.Key, p.Payload, recovering: false);
    }
}

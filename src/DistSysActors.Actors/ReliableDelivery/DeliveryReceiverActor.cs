using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.ReliableDelivery;
using static DistSysActors.Actors.ReliableDelivery.DeliveryProtocol;

namespace DistSysActors.Actors.ReliableDelivery;

/// <summary>
/// The receiving half of the reliable delivery pair: checks each envelope against a <see cref="DedupTable"/>; a new
/// message is persisted as one <see cref="MessageProcessed"/> event (its id and its effect together), then applied to
/// the <see cref="IDeliveryHandler"/>, then acknowledged. A duplicate is acknowledged without being applied, so a
/// redelivery after a crash between persist and acknowledgement is confirmed but takes effect once.
/// </summary>
public sealed class DeliveryReceiverActor : ReceivePersistentActor
{
    private readonly NodeId _self;
    private readonly string _channel;
    private readonly DeliverySettings _settings;
    private readonly IActorRef _network;
    private readonly IDeliveryHandler _handler;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private DedupTable _table;
    private int _eventsSinceSnapshot;
    private long _processed, _duplicatesAcked, _refused;

    public DeliveryReceiverActor(NodeId self, string channel, DeliverySettings settings, IActorRef network, Func<IDeliveryHandler> handlerFactory)
    {
        _self = self;
        _channel = channel;
        _settings = settings;
        _network = network;
        _handler = handlerFactory();
        _table = new DedupTable(settings.DedupIdsMax, settings.DedupSendersMax);
        PersistenceId = PersistenceIdOf(channel, self);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not DeliveryReceiverSnapshot s) return;
            _table = DedupTable.FromSnapshot(s.Dedup, _settings.DedupIdsMax, _settings.DedupSendersMax);
            _handler.Restore(s.HandlerState);
        });
        Recover<MessageProcessed>(e => { Apply(e, recovering: true); _eventsSinceSnapshot++; });
        Recover<RecoveryCompleted>(_ =>
        {
            _log.Info("delivery receiver {0} of node {1} recovered {2} senders", _channel, _self, _table.SenderCount);
            _network.Tell(new NetworkProtocol.Register(ReceiverService(_channel), Self));
        });

        Command<DeliveryEnvelope>(OnEnvelope);
        Command<GetReceiverStatus>(_ => Sender.Tell(new ReceiverStatus(_processed, _duplicatesAcked, _refused, _table.IdsHeld, _table.ToSnapshot().Senders)));
        Command<GetHandlerState>(_ => Sender.Tell(_handler.Snapshot()));
        Command<SaveSnapshotSuccess>(s =>
        {
            DeleteMessages(s.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning("delivery receiver {0}: snapshot failed: {1}", _channel, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("delivery receiver {0}: deleting events failed: {1}", _channel, f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("delivery receiver {0}: deleting snapshots failed: {1}", _channel, f.Cause.Message));
    }

    /// <param name="handlerFactory">Creates the handler of each incarnation; its state is rebuilt from the journal.</param>
    public static Props Props(NodeId self, string channel, DeliverySettings settings, IActorRef network, Func<IDeliveryHandler> handlerFactory) =>
        Akka.Actor.Props.Create(() => new DeliveryReceiverActor(self, channel, settings, network, handlerFactory));

    public static string PersistenceIdOf(string channel, NodeId self) => $"delivery-in-{channel}-{self.Value}";

    public override string PersistenceId { get; }

    private void OnEnvelope(DeliveryEnvelope envelope)
    {
        switch (_table.Check(envelope.From, envelope.Seq))
        {
            case DedupVerdict.New:
                // Persist (not PersistAsync): copies arriving meanwhile wait, then find the id recorded.
                Persist(new MessageProcessed(envelope.From, envelope.Seq, envelope.Key, envelope.Payload), e =>
                {
                    Apply(e, recovering: false);
                    Acknowledge(e.From, e.Seq);
                    if (++_eventsSinceSnapshot >= _settings.SnapshotEveryEvents)
                    {
                        _eventsSinceSnapshot = 0;
                        SaveSnapshot(new DeliveryReceiverSnapshot(_table.ToSnapshot(), _handler.Snapshot()));
                    }
                });
                break;
            case DedupVerdict.Duplicate:
                _duplicatesAcked++;
                Acknowledge(envelope.From, envelope.Seq);
                break;
            default:
                _refused++;
                break;
        }
    }

    private void Apply(MessageProcessed e, bool recovering)
    {
        _table.Record(e.From, e.Seq);
        _handler.Apply(e.From, e.Key, e.Payload, recovering);
        _processed++;
    }

    private void Acknowledge(NodeId to, long seq) =>
        _network.Tell(new NetworkProtocol.Send(to, SenderService(_channel), new DeliveryAck(_self, seq)));
}

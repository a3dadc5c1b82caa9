using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
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
public sealed class DeliverySenderActor : ReceivePersistentActor, IWithTimers
{
    private readonly NodeId _self;
    private readonly string _channel;
    private readonly DeliverySettings _settings;
    private readonly IActorRef _network;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Outbox _outbox;
    private int _eventsSinceSnapshot;

    public ITimerScheduler Timers { get; set; } = null!;

    public DeliverySenderActor(NodeId self, string channel, DeliverySettings settings, IActorRef network)
    {
        _self = self;
        _channel = channel;
        _settings = settings;
        _network = network;
        _outbox = new Outbox(self, settings.OutboxLimits);
        PersistenceId = PersistenceIdOf(channel, self);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is OutboxSnapshot s) _outbox = Outbox.FromSnapshot(_self, _settings.OutboxLimits, s);
        });
        Recover<OutboxEvent>(e => { _outbox.Apply(e); _eventsSinceSnapshot++; });
        Recover<RecoveryCompleted>(_ =>
        {
            _log.Info("delivery sender {0} of node {1} recovered {2} unconfirmed messages", _channel, _self, _outbox.PendingCount);
            _network.Tell(new NetworkProtocol.Register(SenderService(_channel), Self));
            Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TimeSpan.FromMilliseconds(Math.Max(1, _settings.RedeliverIntervalMs / 2)));
            SendDue();
        });

        Command<Deliver>(OnDeliver);
        Command<DeliveryAck>(OnAck);
        Command<Tick>(_ => SendDue());
        Command<GetOutboxStatus>(_ => Sender.Tell(new OutboxStatus(_outbox.PendingCount, _outbox.SentCount, _outbox.RedeliveredCount,
            _outbox.ConfirmedCount, _outbox.MaxAttempts, _outbox.ToSnapshot().LastSeqs)));
        Command<SaveSnapshotSuccess>(s =>
        {
            DeleteMessages(s.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning("delivery sender {0}: snapshot failed: {1}", _channel, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("delivery sender {0}: deleting events failed: {1}", _channel, f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("delivery sender {0}: deleting snapshots failed: {1}", _channel, f.Cause.Message));
    }

    public static Props Props(NodeId self, string channel, DeliverySettings settings, IActorRef network) =>
        Akka.Actor.Props.Create(() => new DeliverySenderActor(self, channel, settings, network));

    public static string PersistenceIdOf(string channel, NodeId self) => $"delivery-out-{channel}-{self.Value}";

    public override string PersistenceId { get; }

    private static long NowMs => Stopwatch.GetTimestamp() * 1000 / Stopwatch.Frequency;

    private void OnDeliver(Deliver deliver)
    {
        var client = Sender;
        switch (_outbox.Offer(deliver.To, deliver.Key, deliver.Payload))
        {
            case OfferResult.Accepted a:
                Persist(a.Event, e =>
                {
                    _outbox.Apply(e);
                    client.Tell(new Accepted(e.Key, e.To, e.Seq));
                    SendDue();
                    AfterEvent();
                });
                break;
            case OfferResult.Duplicate d:
                client.Tell(new AlreadyAccepted(d.Key, d.Confirmed));
                break;
            case OfferResult.Full f:
                client.Tell(new Refused(deliver.Key, $"outbox full: {f.PendingMax} unconfirmed messages"));
                break;
            case OfferResult.Invalid i:
                client.Tell(new Refused(deliver.Key, i.Reason));
                break;
        }
    }

    private void OnAck(DeliveryAck ack)
    {
        if (_outbox.Confirm(ack) is not { } confirmed) return;
        var key = _outbox.PendingMessage(confirmed.To, confirmed.Seq)!.Key;
        Persist(confirmed, e =>
        {
            _outbox.Apply(e);
            Context.System.EventStream.Publish(new Confirmed(_channel, e.To, e.Seq, key));
            AfterEvent();
        });
    }

    private void SendDue()
    {
        _outbox.Tick(NowMs);
        var service = ReceiverService(_channel);
        foreach (var (to, envelope) in _outbox.TakeOutgoing())
            _network.Tell(new NetworkProtocol.Send(to, service, envelope));
    }

    private void AfterEvent()
    {
        if (++_eventsSinceSnapshot < _settings.SnapshotEveryEvents) return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(_outbox.ToSnapshot());
    }

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }
}

using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Core.Tests.ReliableDelivery;

public class DeliveryReceiverTests
{
    private static NodeId N(int id) => new(id);

    [Fact]
    public void A_new_message_is_persisted_then_applied_then_acknowledged_and_a_duplicate_only_acknowledged()
    {
        var receiver = new DeliveryReceiver(N(2), new DedupTable(windowMax: 4, sendersMax: 2));
        receiver.Step(new DeliveryEnvelope(N(1), 1, "k1", "p1", 1), 0);
        var ready = receiver.TakeReady();
        var processed = new DeliveryProcessed(N(1), 1, "k1", "p1");
        Assert.Equal([processed], ready.Writes);
        Assert.Equal([processed], ready.Applies);
        Assert.Equal([new(N(1), new DeliveryAck(N(2), 1))], ready.MessagesAfterPersist);
        Assert.Empty(ready.MessagesBeforePersist);
        receiver.Advance(ready);

        receiver.Step(new DeliveryEnvelope(N(1), 1, "k1", "p1", 2), 0);
        var duplicate = receiver.TakeReady();
        Assert.Empty(duplicate.Writes);
        Assert.Empty(duplicate.Applies);
        Assert.Equal([new(N(1), new DeliveryAck(N(2), 1))], duplicate.MessagesAfterPersist);
        Assert.Equal((1L, 1L), (receiver.Processed, receiver.DuplicatesAcked));
        Assert.Empty(receiver.CheckInvariants());
    }

    [Fact]
    public void A_message_beyond_the_window_is_neither_applied_nor_acknowledged()
    {
        var receiver = new DeliveryReceiver(N(2), new DedupTable(windowMax: 4, sendersMax: 2));
        receiver.Step(new DeliveryEnvelope(N(1), 6, "k6", "p6", 1), 0);
        Assert.False(receiver.HasReady);
        Assert.Equal(1, receiver.Refused);
    }

    [Fact]
    public void Replay_rebuilds_the_table_without_effects()
    {
        var receiver = new DeliveryReceiver(N(2), new DedupTable(windowMax: 4, sendersMax: 2));
        receiver.Replay(new DeliveryProcessed(N(1), 1, "k1", "p1"));
        Assert.False(receiver.HasReady);
        Assert.Equal(1, receiver.Table.HighWaterSeq(N(1)));
    }

    [Fact]
    public void The_outbox_persists_an_accepted_offer_before_its_first_copy_leaves_and_answers_it()
    {
        var outbox = new Outbox(N(1), OutboxLimits.Default);
        outbox.Accept(requestId: 9, N(2), "k", "p", nowMs: 100);
        var ready = outbox.TakeReady();
        var accepted = new DeliveryAccepted(N(2), 1, "k", "p");
        Assert.Equal([accepted], ready.Writes);
        Assert.Equal([new(N(2), new DeliveryEnvelope(N(1), 1, "k", "p", 1))], ready.MessagesAfterPersist);
        Assert.Equal([new OfferAnswer(9, new OfferResult.Accepted(accepted))], ready.Answers);
        outbox.Advance(ready);

        outbox.Step(new DeliveryAck(N(2), 1), 150);
        var confirmed = outbox.TakeReady();
        Assert.Equal([new DeliveryConfirmed(N(2), 1)], confirmed.Writes);
        Assert.Equal([new DeliveryDone(N(2), 1, "k")], confirmed.Answers);
        outbox.Advance(confirmed);
        Assert.Equal(0, outbox.PendingCount);
        Assert.Empty(outbox.CheckInvariants());
    }
}

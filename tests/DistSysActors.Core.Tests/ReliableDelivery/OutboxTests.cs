using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Core.Tests.ReliableDelivery;

public sealed class OutboxTests
{
    private static readonly NodeId Self = new(1), B = new(2), C = new(3);
    private static readonly OutboxLimits Limits = new(RedeliverIntervalMs: 100, PendingMax: 4, RedeliverBurstMax: 100, ConfirmedKeysMax: 3);

    private static DeliveryAccepted Accept(Outbox outbox, NodeId to, string key, object? payload = null)
    {
        var result = Assert.IsType<OfferResult.Accepted>(outbox.Offer(to, key, payload ?? key));
        outbox.Apply(result.Event);
        return result.Event;
    }

    [Fact]
    public void Sequence_numbers_count_from_one_without_gaps_per_destination()
    {
        var outbox = new Outbox(Self, Limits);
        Assert.Equal(new long[] { 1, 2, 1, 3 }, new[] { Accept(outbox, B, "a"), Accept(outbox, B, "b"), Accept(outbox, C, "c"), Accept(outbox, B, "d") }.Select(e => e.Seq));
        Assert.Equal(3, outbox.LastSeq(B));
        Assert.Equal(1, outbox.LastSeq(C));
    }

    [Fact]
    public void Offer_changes_nothing_until_the_persisted_event_is_applied()
    {
        var outbox = new Outbox(Self, Limits);
        Assert.IsType<OfferResult.Accepted>(outbox.Offer(B, "a", "x"));
        outbox.Tick(0);
        Assert.Empty(outbox.TakeEnvelopes());
        Assert.Equal(0, outbox.PendingCount);
    }

    [Fact]
    public void An_accepted_message_is_sent_on_the_next_tick_and_resent_every_interval_until_confirmed()
    {
        var outbox = new Outbox(Self, Limits);
        Accept(outbox, B, "a", "payload");
        outbox.Tick(1_000);
        var first = Assert.Single(outbox.TakeEnvelopes());
        Assert.Equal((B, new DeliveryEnvelope(Self, 1, "a", "payload", 1)), first);

        outbox.Tick(1_099);
        Assert.Empty(outbox.TakeEnvelopes());
        outbox.Tick(1_100);
        Assert.Equal(2, Assert.Single(outbox.TakeEnvelopes()).Envelope.Attempt);

        var confirmed = outbox.Confirm(new DeliveryAck(B, 1));
        Assert.Equal(new DeliveryConfirmed(B, 1), confirmed);
        outbox.Apply(confirmed!);
        outbox.Tick(10_000);
        Assert.Empty(outbox.TakeEnvelopes());
        Assert.Equal(0, outbox.PendingCount);
        Assert.Equal(1, outbox.RedeliveredCount);
    }

    [Fact]
    public void An_ack_for_a_message_not_pending_yields_nothing_to_persist()
    {
        var outbox = new Outbox(Self, Limits);
        Accept(outbox, B, "a");
        Assert.Null(outbox.Confirm(new DeliveryAck(B, 2)));
        Assert.Null(outbox.Confirm(new DeliveryAck(C, 1)));
        outbox.Apply(outbox.Confirm(new DeliveryAck(B, 1))!);
        Assert.Null(outbox.Confirm(new DeliveryAck(B, 1)));
    }

    [Fact]
    public void A_key_pending_or_recently_confirmed_is_not_delivered_again()
    {
        var outbox = new Outbox(Self, Limits);
        Accept(outbox, B, "a");
        Assert.Equal(new OfferResult.Duplicate("a", Confirmed: false), outbox.Offer(B, "a", "again"));
        outbox.Apply(new DeliveryConfirmed(B, 1));
        Assert.Equal(new OfferResult.Duplicate("a", Confirmed: true), outbox.Offer(C, "a", "again"));
    }

    [Fact]
    public void Confirmed_keys_beyond_the_limit_are_forgotten_oldest_first()
    {
        var outbox = new Outbox(Self, Limits);
        foreach (var key in new[] { "k1", "k2", "k3", "k4" })
        {
            var e = Accept(outbox, B, key);
            outbox.Apply(new DeliveryConfirmed(B, e.Seq));
        }
        Assert.IsType<OfferResult.Accepted>(outbox.Offer(B, "k1", "x"));
        Assert.IsType<OfferResult.Duplicate>(outbox.Offer(B, "k2", "x"));
        Assert.IsType<OfferResult.Duplicate>(outbox.Offer(B, "k4", "x"));
    }

    [Fact]
    public void Offers_beyond_the_pending_limit_are_refused_and_accepted_again_after_a_confirmation()
    {
        var outbox = new Outbox(Self, Limits);
        for (var i = 0; i < Limits.PendingMax; i++) Accept(outbox, B, $"k{i}");
        Assert.Equal(new OfferResult.Full(Limits.PendingMax), outbox.Offer(B, "more", "x"));
        outbox.Apply(new DeliveryConfirmed(B, 2));
        Assert.IsType<OfferResult.Accepted>(outbox.Offer(B, "more", "x"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void Empty_keys_and_self_delivery_are_invalid(string? key)
    {
        var outbox = new Outbox(Self, Limits);
        Assert.IsType<OfferResult.Invalid>(outbox.Offer(B, key!, "x"));
        Assert.IsType<OfferResult.Invalid>(outbox.Offer(B, new string('k', Limits.KeyLengthMax + 1), "x"));
        Assert.IsType<OfferResult.Invalid>(outbox.Offer(Self, "a", "x"));
    }

    [Fact]
    public void A_tick_sends_at_most_the_burst_limit_lowest_sequence_first()
    {
        var outbox = new Outbox(Self, Limits with { RedeliverBurstMax = 2 });
        for (var i = 0; i < 4; i++) Accept(outbox, B, $"k{i}");
        outbox.Tick(0);
        Assert.Equal(new long[] { 1, 2 }, outbox.TakeEnvelopes().Select(o => o.Envelope.Seq));
        outbox.Tick(0);
        Assert.Equal(new long[] { 3, 4 }, outbox.TakeEnvelopes().Select(o => o.Envelope.Seq));
    }

    [Fact]
    public void Replaying_the_journal_recovers_pending_messages_due_at_once_and_the_sequence_numbers()
    {
        var live = new Outbox(Self, Limits);
        var journal = new List<OutboxEvent>();
        foreach (var key in new[] { "a", "b", "c" })
        {
            var e = Assert.IsType<OfferResult.Accepted>(live.Offer(B, key, key)).Event;
            journal.Add(e);
            live.Apply(e);
        }
        journal.Add(live.Confirm(new DeliveryAck(B, 2))!);

        var recovered = new Outbox(Self, Limits);
        foreach (var e in journal) recovered.Apply(e);
        recovered.Tick(0);
        Assert.Equal(new long[] { 1, 3 }, recovered.TakeEnvelopes().Select(o => o.Envelope.Seq));
        Assert.Equal(4, Assert.IsType<OfferResult.Accepted>(recovered.Offer(B, "d", "d")).Event.Seq);
        Assert.IsType<OfferResult.Duplicate>(recovered.Offer(B, "b", "b"));
    }

    [Fact]
    public void A_snapshot_restores_the_same_outbox()
    {
        var live = new Outbox(Self, Limits);
        Accept(live, B, "a");
        Accept(live, C, "b");
        var c = Accept(live, B, "c");
        live.Apply(new DeliveryConfirmed(B, c.Seq));

        var restored = Outbox.FromSnapshot(Self, Limits, live.ToSnapshot());
        Assert.Equal(live.PendingMessages, restored.PendingMessages);
        Assert.Equal(live.LastSeq(B), restored.LastSeq(B));
        Assert.Equal(live.LastSeq(C), restored.LastSeq(C));
        Assert.IsType<OfferResult.Duplicate>(restored.Offer(B, "c", "c"));
        Assert.Equal(live.ToSnapshot().Pending, restored.ToSnapshot().Pending);
    }
}

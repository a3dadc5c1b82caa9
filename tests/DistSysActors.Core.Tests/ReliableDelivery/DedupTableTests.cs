using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Core.Tests.ReliableDelivery;

public sealed class DedupTableTests
{
    private static readonly NodeId A = new(1), B = new(2), C = new(3);

    [Fact]
    public void A_new_message_is_new_once_and_a_duplicate_after_it_is_recorded()
    {
        var table = new DedupTable(windowMax: 10, sendersMax: 4);
        Assert.Equal(DedupVerdict.New, table.Check(A, 1));
        Assert.Equal(DedupVerdict.New, table.Check(A, 1));
        table.Record(A, 1);
        Assert.Equal(DedupVerdict.Duplicate, table.Check(A, 1));
        Assert.Equal(DedupVerdict.New, table.Check(B, 1));
    }

    [Fact]
    public void Contiguous_numbers_fold_into_the_high_water_mark_and_out_of_the_listed_set()
    {
        var table = new DedupTable(windowMax: 10, sendersMax: 4);
        table.Record(A, 2);
        table.Record(A, 4);
        Assert.Equal(0, table.HighWaterSeq(A));
        Assert.Equal(2, table.IdsHeld);
        table.Record(A, 1);
        Assert.Equal(2, table.HighWaterSeq(A));
        Assert.Equal(1, table.IdsHeld);
        table.Record(A, 3);
        Assert.Equal(4, table.HighWaterSeq(A));
        Assert.Equal(0, table.IdsHeld);
        foreach (var seq in new long[] { 1, 2, 3, 4 }) Assert.Equal(DedupVerdict.Duplicate, table.Check(A, seq));
        Assert.Equal(DedupVerdict.New, table.Check(A, 5));
        table.AssertInvariants();
    }

    [Fact]
    public void A_number_beyond_the_window_above_the_high_water_mark_is_refused_until_the_gap_fills()
    {
        var table = new DedupTable(windowMax: 3, sendersMax: 4);
        Assert.Equal(DedupVerdict.BeyondWindow, table.Check(A, 4));
        table.Record(A, 2);
        table.Record(A, 3);
        Assert.Equal(DedupVerdict.BeyondWindow, table.Check(A, 4));
        table.Record(A, 1);
        Assert.Equal(DedupVerdict.New, table.Check(A, 4));
        Assert.Equal(DedupVerdict.New, table.Check(A, 6));
        Assert.Equal(DedupVerdict.BeyondWindow, table.Check(A, 7));
    }

    [Fact]
    public void Senders_beyond_the_limit_are_refused()
    {
        var table = new DedupTable(windowMax: 3, sendersMax: 2);
        table.Record(A, 1);
        table.Record(B, 1);
        Assert.Equal(DedupVerdict.TooManySenders, table.Check(C, 1));
        Assert.Equal(DedupVerdict.New, table.Check(A, 2));
    }

    [Fact]
    public void Sequence_numbers_below_one_are_invalid()
    {
        var table = new DedupTable(windowMax: 3, sendersMax: 2);
        Assert.Equal(DedupVerdict.Invalid, table.Check(A, 0));
        Assert.Equal(DedupVerdict.Invalid, table.Check(A, -5));
    }

    [Fact]
    public void Recording_is_idempotent_so_journal_replay_may_repeat_events()
    {
        var table = new DedupTable(windowMax: 10, sendersMax: 4);
        foreach (var seq in new long[] { 1, 3, 3, 1, 2, 2, 5 }) table.Record(A, seq);
        Assert.Equal(3, table.HighWaterSeq(A));
        Assert.Equal(1, table.IdsHeld);
    }

    [Fact]
    public void A_snapshot_restores_the_same_verdicts()
    {
        var table = new DedupTable(windowMax: 10, sendersMax: 4);
        foreach (var seq in new long[] { 1, 2, 5, 7 }) table.Record(A, seq);
        table.Record(B, 3);
        var restored = DedupTable.FromSnapshot(table.ToSnapshot(), 10, 4);
        restored.AssertInvariants();
        foreach (var from in new[] { A, B, C })
            for (long seq = 0; seq <= 12; seq++)
                Assert.Equal(table.Check(from, seq), restored.Check(from, seq));
    }

    /// <summary>
    /// The pair end to end without I/O: a lossy, duplicating link in both directions, with random restarts of both
    /// sides from their journals. Every offered key takes effect exactly once and is eventually confirmed, and the
    /// table never holds more than its window.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Over_a_lossy_duplicating_link_with_restarts_each_key_takes_effect_exactly_once(long seed)
    {
        var random = new DeterministicRandom(seed);
        var limits = new OutboxLimits(RedeliverIntervalMs: 10, PendingMax: 50, RedeliverBurstMax: 20, ConfirmedKeysMax: 1_000);
        const int windowMax = 16;
        var senderJournal = new List<OutboxEvent>();
        var receiverJournal = new List<(NodeId From, long Seq, string Key)>();
        var outbox = new Outbox(A, limits);
        var table = new DedupTable(windowMax, 4);
        var effects = new Dictionary<string, int>(StringComparer.Ordinal);
        var inFlight = new List<object>();
        var offers = Enumerable.Range(0, 1_000).Select(i => $"k{i % 200}").ToList();
        long now = 0;

        for (var step = 0; step < 100_000 && (offers.Count > 0 || outbox.PendingCount > 0); step++)
        {
            now += 1;
            if (offers.Count > 0)
            {
                var result = outbox.Offer(B, offers[0], offers[0]);
                if (result is OfferResult.Accepted a) { senderJournal.Add(a.Event); outbox.Apply(a.Event); }
                if (result is not OfferResult.Full) offers.RemoveAt(0);
            }
            outbox.Tick(now);
            foreach (var (_, envelope) in outbox.TakeEnvelopes()) Transmit(envelope);

            var batch = inFlight.ToList();
            inFlight.Clear();
            foreach (var message in batch)
            {
                switch (message)
                {
                    case DeliveryEnvelope e:
                        var verdict = table.Check(e.From, e.Seq);
                        if (verdict == DedupVerdict.New)
                        {
                            receiverJournal.Add((e.From, e.Seq, e.Key));
                            table.Record(e.From, e.Seq);
                            effects[e.Key] = effects.GetValueOrDefault(e.Key) + 1;
                        }
                        if (verdict is DedupVerdict.New or DedupVerdict.Duplicate) Transmit(new DeliveryAck(B, e.Seq));
                        break;
                    case DeliveryAck ack:
                        if (outbox.Confirm(ack) is { } confirmed) { senderJournal.Add(confirmed); outbox.Apply(confirmed); }
                        break;
                }
            }
            table.AssertInvariants();

            if (random.Chance(0.01))
            {
                outbox = new Outbox(A, limits);
                foreach (var e in senderJournal) outbox.Apply(e);
            }
            if (random.Chance(0.01))
            {
                table = new DedupTable(windowMax, 4);
                effects.Clear();
                foreach (var (from, seq, key) in receiverJournal)
                {
                    table.Record(from, seq);
                    effects[key] = effects.GetValueOrDefault(key) + 1;
                }
            }
        }

        Assert.True(offers.Count == 0 && outbox.PendingCount == 0, $"seed {seed}: {offers.Count} offers and {outbox.PendingCount} deliveries left");
        Assert.Equal(200, effects.Count);
        Assert.All(effects, kv => Assert.True(kv.Value == 1, $"seed {seed}: {kv.Key} took effect {kv.Value} times"));
        return;

        void Transmit(object message)
        {
            if (random.Chance(0.3)) return;
            inFlight.Add(message);
            if (random.Chance(0.3)) inFlight.Add(message);
        }
    }
}

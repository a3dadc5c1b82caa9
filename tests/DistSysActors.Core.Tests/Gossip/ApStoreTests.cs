using DistSysActors.Core.Clocks;
using DistSysActors.Core.Gossip;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Tests.Gossip;

public class ApStoreTests
{
    private static readonly NodeId A = new(1), B = new(2);
    private static readonly ApStoreConfig Config = new() { ExchangeIntervalMs = 100, TombstoneTtlMs = 10_000 };

    private static ApStore Store(NodeId self, ApStoreConfig? config = null) => new(self, [A, B], config ?? Config, new DeterministicRandom(3));

    private static List<Outgoing<AntiEntropyMessage>> Take(ApStore core)
    {
        var ready = core.TakeReady();
        core.Advance(ready);
        return [.. ready.MessagesAfterPersist];
    }

    /// <summary>Runs one push-pull exchange opened by <paramref name="from"/>.</summary>
    private static void Exchange(ApStore from, ApStore to, long nowMs)
    {
        from.Tick(nowMs);
        var queue = new Queue<Outgoing<AntiEntropyMessage>>(Take(from));
        while (queue.TryDequeue(out var m))
        {
            var receiver = m.To == to.Self ? to : from;
            receiver.Step(m.Message, nowMs);
            foreach (var next in Take(receiver)) queue.Enqueue(next);
        }
    }

    [Fact]
    public void A_write_is_answered_at_once_stamped_with_the_replicas_hlc_and_a_later_write_wins()
    {
        var a = Store(A);
        var first = Assert.IsType<ApWriteResult.Written>(a.Put("k", "v1", 1_000)).Entry;
        Assert.Equal(new ApVersion(new HlcTimestamp(1_000, 0), A), first.Version);
        var second = Assert.IsType<ApWriteResult.Written>(a.Put("k", "v2", 1_000)).Entry;
        Assert.Equal(new HlcTimestamp(1_000, 1), second.Version.Hlc);
        Assert.Equal("v2", a.Get("k")!.Value);
    }

    [Fact]
    public void One_push_pull_exchange_brings_both_replicas_to_the_same_entries()
    {
        var a = Store(A);
        var b = Store(B);
        a.Put("only-a", "1", 100);
        b.Put("only-b", "2", 100);
        a.Put("both", "old", 100);
        b.Put("both", "new", 200);
        Exchange(a, b, 300);
        foreach (var key in new[] { "only-a", "only-b", "both" }) Assert.Equal(a.Get(key), b.Get(key));
        Assert.Equal("new", a.Get("both")!.Value);
        Assert.Empty(a.CheckInvariants());
        Assert.Empty(b.CheckInvariants());
    }

    [Fact]
    public void Concurrent_writes_with_equal_timestamps_resolve_by_writer_id_the_same_way_everywhere()
    {
        var a = Store(A);
        var b = Store(B);
        a.Put("k", "from-a", 500);
        b.Put("k", "from-b", 500);
        Exchange(a, b, 600);
        Assert.Equal("from-b", a.Get("k")!.Value);
        Assert.Equal("from-b", b.Get("k")!.Value);
    }

    [Fact]
    public void A_replica_that_read_a_merged_value_writes_after_it_even_with_a_slower_clock()
    {
        var a = Store(A);
        var b = Store(B);
        a.Put("k", "ahead", 5_000);
        Exchange(b, a, 100); // b's clock reads 100 ms, far behind
        var write = Assert.IsType<ApWriteResult.Written>(b.Put("k", "after", 100)).Entry;
        Assert.True(write.Version > a.Get("k")!.Version);
    }

    [Fact]
    public void A_delete_is_a_tombstone_that_beats_the_older_value_and_a_stale_replica_does_not_bring_it_back()
    {
        var a = Store(A);
        var b = Store(B);
        a.Put("k", "v", 100);
        Exchange(a, b, 150);
        Assert.IsType<ApWriteResult.Written>(a.Delete("k", 200));
        Exchange(b, a, 300); // the stale replica opens the exchange and pushes its old value
        Assert.True(a.Get("k")!.IsTombstone);
        Assert.True(b.Get("k")!.IsTombstone);
    }

    [Fact]
    public void A_tombstone_is_purged_once_older_than_its_expiry_and_not_taken_back_from_a_peer()
    {
        var a = Store(A);
        var b = Store(B, Config with { TombstoneTtlMs = 1_000_000 });
        a.Delete("k", 100);
        a.Tick(10_100);
        Assert.NotNull(a.Get("k"));
        a.Tick(10_201);
        Assert.Null(a.Get("k"));
        Assert.Equal(1, a.Status().TombstonesPurged);
        b.Step(new ApDelta(A, true, [new ApEntry("k", null, new ApVersion(new HlcTimestamp(100, 0), A))], []), 10_300);
        Exchange(b, a, 10_400);
        Assert.Null(a.Get("k"));
    }

    [Fact]
    public void Bad_input_is_refused_and_changes_nothing()
    {
        var a = Store(A, Config with { ValueBytesMax = 4, KeysMax = 1 });
        Assert.Contains("empty", Assert.IsType<ApWriteResult.Refused>(a.Put("", "v", 1)).Reason);
        Assert.True(Assert.IsType<ApWriteResult.Refused>(a.Put("k", "too long", 1)).TooLarge);
        Assert.IsType<ApWriteResult.Written>(a.Put("k", "ok", 1));
        Assert.Contains("limit", Assert.IsType<ApWriteResult.Refused>(a.Put("k2", "v", 1)).Reason);
        Assert.Equal(["k"], a.Entries.Select(e => e.Key));
    }
}

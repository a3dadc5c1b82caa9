using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>The replicated key-value state machine and its client sessions (Raft dissertation 6.3).</summary>
public sealed class KeyValueStoreTests
{
    private long _index;

    private LogEntry Entry(KvCommand c) => new(++_index, 1, EntryType.Normal, KvCodec.Encode(c));

    private static KvConfigure SessionsMax(int sessionsMax) =>
        new(1, new KvLimits(sessionsMax, KeyValueStore.DefaultIdempotencyTtlMs, KeyValueStore.DefaultIdempotencyRecordsMax));

    [Fact]
    public void PutGetDeleteAndCas()
    {
        var kv = new KeyValueStore();
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(new KvPut(1, 1, "a", "x")))!.Result.Status);
        Assert.Equal("x", kv.Get("a"));
        Assert.Equal(new KvResult(KvStatus.CasMismatch, "x"), kv.Apply(Entry(new KvCas(1, 2, "a", "y", "z")))!.Result);
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(new KvCas(1, 3, "a", "x", "z")))!.Result.Status);
        Assert.Equal("z", kv.Get("a"));
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(new KvDelete(1, 4, "a")))!.Result.Status);
        Assert.Null(kv.Get("a"));
        Assert.Equal(KvStatus.NotFound, kv.Apply(Entry(new KvDelete(1, 5, "a")))!.Result.Status);
    }

    [Fact]
    public void CasWithNullExpectedRequiresAbsentKey()
    {
        var kv = new KeyValueStore();
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(new KvCas(1, 1, "k", null, "first")))!.Result.Status);
        Assert.Equal(new KvResult(KvStatus.CasMismatch, "first"), kv.Apply(Entry(new KvCas(2, 1, "k", null, "second")))!.Result);
        Assert.Equal("first", kv.Get("k"));
    }

    [Fact]
    public void Dissertation6_3_DuplicateCommandIsAppliedOnceAndReturnsStoredResponse()
    {
        var kv = new KeyValueStore();
        var cas = new KvCas(7, 1, "k", null, "v1");
        var first = kv.Apply(Entry(cas))!;
        kv.Apply(Entry(new KvPut(8, 1, "k", "other")));
        var retry = kv.Apply(Entry(cas))!; // the client retried after a timeout; the log holds it twice

        Assert.False(first.Duplicate);
        Assert.True(retry.Duplicate);
        Assert.Equal(first.Result, retry.Result); // Ok again, although executing it now would fail
        Assert.Equal("other", kv.Get("k"));
    }

    [Fact]
    public void Dissertation6_3_OlderSequenceIsNotReapplied()
    {
        var kv = new KeyValueStore();
        kv.Apply(Entry(new KvPut(1, 1, "k", "a")));
        kv.Apply(Entry(new KvPut(1, 2, "k", "b")));
        var old = kv.Apply(Entry(new KvPut(1, 1, "k", "a")))!;
        Assert.Equal(KvStatus.StaleSequence, old.Result.Status);
        Assert.Equal("b", kv.Get("k"));
    }

    [Fact]
    public void Dissertation6_3_SessionTableIsBoundedAndEvictsLeastRecentlyUsed()
    {
        var kv = new KeyValueStore();
        kv.Apply(Entry(SessionsMax(3))); // the cluster's limit, from the log
        kv.Apply(Entry(new KvPut(1, 1, "a", "1")));
        kv.Apply(Entry(new KvPut(2, 1, "b", "1")));
        kv.Apply(Entry(new KvPut(3, 1, "c", "1")));
        kv.Apply(Entry(new KvPut(1, 2, "a", "2"))); // client 1 is now more recent than client 2
        kv.Apply(Entry(new KvPut(4, 1, "d", "1"))); // evicts client 2

        Assert.Equal(3, kv.SessionCount);
        Assert.Null(kv.SessionSequence(2));
        Assert.Equal(2, kv.SessionSequence(1));
        var expired = kv.Apply(Entry(new KvPut(2, 2, "b", "2")))!;
        Assert.Equal(KvStatus.SessionExpired, expired.Result.Status);
        Assert.Equal("1", kv.Get("b")); // not applied
    }

    [Fact]
    public void EntriesMustBeAppliedInOrderAndNoOpsProduceNoResult()
    {
        var kv = new KeyValueStore();
        Assert.Null(kv.Apply(new LogEntry(1, 1, EntryType.NoOp, LogEntry.EmptyData)));
        Assert.Throws<InvalidOperationException>(() => kv.Apply(new LogEntry(3, 1, EntryType.NoOp, LogEntry.EmptyData)));
        Assert.Equal(1, kv.AppliedIndex);
    }

    [Fact]
    public void GarbageDataIsRejectedIdenticallyOnEveryReplica()
    {
        var kv = new KeyValueStore();
        var result = kv.Apply(new LogEntry(1, 1, EntryType.Normal, [1, 2, 3]))!;
        Assert.Equal(KvStatus.Invalid, result.Result.Status);
        Assert.Equal(0, kv.Count);
    }

    [Fact]
    public void CodecRoundTripsEveryCommandAndRejectsOversizedValues()
    {
        KvCommand[] commands =
        [
            new KvPut(long.MaxValue, 3, "key", "välue"),
            new KvDelete(-1, 1, ""),
            new KvCas(5, 9, "k", null, "v"),
            new KvCas(5, 10, "k", "", "v"),
        ];
        foreach (var c in commands) Assert.Equal(c, KvCodec.Decode(KvCodec.Encode(c)));
        Assert.Throws<ArgumentException>(() => KvCodec.Encode(new KvPut(1, 1, "k", new string('x', KvCodec.ValueBytesMax + 1))));
        Assert.Null(KvCodec.Decode([.. KvCodec.Encode(commands[0]), 0])); // trailing bytes
    }

    [Fact]
    public void ReplicasApplyingTheSameLogReachTheSameState()
    {
        var random = new DeterministicRandom(11);
        var log = new List<LogEntry> { new(1, 1, EntryType.Normal, KvCodec.Encode(SessionsMax(3))) };
        for (var i = 2; i <= 300; i++)
        {
            var client = random.NextInt(1, 6);
            var seq = random.NextInt(1, 4);
            var key = $"k{random.NextInt(0, 4)}";
            KvCommand c = random.NextInt(0, 3) switch
            {
                0 => new KvPut(client, seq, key, $"v{i}"),
                1 => new KvDelete(client, seq, key),
                _ => new KvCas(client, seq, key, random.Chance(0.3) ? null : $"v{i - 1}", $"v{i}"),
            };
            log.Add(new LogEntry(i, 1, EntryType.Normal, KvCodec.Encode(c)));
        }
        var a = new KeyValueStore();
        var b = new KeyValueStore(sessionsMax: 50); // its own configuration differs; the log's limit applies
        var ra = log.Select(e => a.Apply(e)).ToList();
        var rb = log.Select(e => b.Apply(e)).ToList();
        Assert.Equal(ra, rb);
        Assert.Equal(a.Items, b.Items);
        Assert.Equal(3, b.SessionCount);
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }
}

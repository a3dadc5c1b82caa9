using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>Idempotency keys in the replicated state machine: execute once, replay the stored answer, expire by leader time.</summary>
public sealed class IdempotencyKeyTests
{
    private long _index;
    private long _nonce;

    private LogEntry Entry(KvCommand c) => new(++_index, 1, EntryType.Normal, KvCodec.Encode(c));

    /// <summary>Each retry comes as a new client session (registered first), as from another node after a failover.</summary>
    private KvApplied Cas(KeyValueStore kv, string key, string? expected, string value, string idemKey, string fingerprint = "f1")
    {
        var client = kv.Apply(Entry(new KvRegister(++_nonce)))!.RegisteredClientId!.Value;
        return kv.Apply(Entry(new KvCas(client, 1, key, expected, value) { Idempotency = new KvIdempotency(idemKey, fingerprint) }))!;
    }

    private void Clock(KeyValueStore kv, long leaderTimeMs) => Assert.Null(kv.Apply(Entry(new KvClock(leaderTimeMs))));

    /// <summary>A store whose log has configured these idempotency limits (the cluster's, which apply).</summary>
    private KeyValueStore Configured(long ttlMs = KeyValueStore.DefaultIdempotencyTtlMs, int recordsMax = KeyValueStore.DefaultIdempotencyRecordsMax)
    {
        var kv = new KeyValueStore();
        Assert.Null(kv.Apply(Entry(new KvConfigure(1, new KvLimits(KeyValueStore.DefaultSessionsMax, ttlMs, recordsMax)))));
        return kv;
    }

    [Fact]
    public void A_retried_request_is_executed_once_and_answered_with_the_stored_result()
    {
        var kv = new KeyValueStore();
        var first = Cas(kv, "k", null, "v1", "key-1");
        Assert.Equal((KvStatus.Ok, false, false), (first.Result.Status, first.Duplicate, first.Replayed));

        // Without the key the second cas would fail (the value is no longer absent); with it, the first answer comes back.
        var retry = Cas(kv, "k", null, "v1", "key-1");
        Assert.Equal((KvStatus.Ok, true, true), (retry.Result.Status, retry.Duplicate, retry.Replayed));
        Assert.Equal(first.Index, retry.EffectIndex);
        Assert.Equal("v1", kv.Get("k"));
    }

    [Fact]
    public void The_same_key_with_another_request_is_refused_and_changes_nothing()
    {
        var kv = new KeyValueStore();
        Cas(kv, "k", null, "v1", "key-1", fingerprint: "put k v1");
        var other = Cas(kv, "k", "v1", "v2", "key-1", fingerprint: "put k v2");
        Assert.Equal(KvStatus.IdempotencyMismatch, other.Result.Status);
        Assert.False(other.Replayed);
        Assert.Equal("v1", kv.Get("k"));
    }

    [Fact]
    public void A_key_expires_after_the_ttl_judged_by_the_leader_clock_in_the_log()
    {
        var kv = Configured(ttlMs: 1_000);
        Clock(kv, 10_000);
        Cas(kv, "k", null, "v1", "key-1");
        Clock(kv, 10_900);
        Assert.True(Cas(kv, "k", null, "v1", "key-1").Replayed);
        Clock(kv, 11_001);
        Assert.Equal(0, kv.IdempotencyRecordCount);
        // Treated as new: executed again (and this cas now fails, since the key holds v1).
        var reused = Cas(kv, "k", null, "v1", "key-1");
        Assert.False(reused.Replayed);
        Assert.Equal(KvStatus.CasMismatch, reused.Result.Status);
    }

    [Fact]
    public void The_leader_clock_never_goes_back()
    {
        var kv = Configured(ttlMs: 1_000);
        Clock(kv, 10_000);
        Clock(kv, 5_000);
        Assert.Equal(10_000, kv.LeaderTimeMs);
    }

    [Fact]
    public void A_full_table_evicts_the_oldest_record()
    {
        var kv = Configured(recordsMax: 3);
        for (var i = 1; i <= 4; i++)
        {
            Clock(kv, i * 1_000);
            Cas(kv, $"k{i}", null, "v", $"key-{i}");
        }
        Assert.Equal(3, kv.IdempotencyRecordCount);
        Assert.False(Cas(kv, "k1", null, "v", "key-1").Replayed); // evicted: executed again
        Assert.True(Cas(kv, "k4", null, "v", "key-4").Replayed);
    }

    [Fact]
    public void Commands_with_and_without_keys_round_trip_and_version_1_entries_still_decode()
    {
        KvCommand[] commands =
        [
            new KvPut(1, 2, "k", "v") { Idempotency = new KvIdempotency("abc", "fp") },
            new KvDelete(1, 3, "k"),
            new KvClock(123_456),
        ];
        foreach (var c in commands) Assert.Equal(c, KvCodec.Decode(KvCodec.Encode(c)));
        // A version-1 put: version, tag, client, sequence, key, value.
        var v1 = new MemoryStream();
        using (var w = new BinaryWriter(v1)) { w.Write((byte)1); w.Write((byte)1); w.Write(5L); w.Write(6L); w.Write("k"); w.Write("v"); }
        Assert.Equal(new KvPut(5, 6, "k", "v") { LegacyImplicitSession = true }, KvCodec.Decode(v1.ToArray()));
    }
}

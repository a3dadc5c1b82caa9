using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>
/// The limits that shape the replicated state (sessions-max, the idempotency TTL and records-max) are the cluster's,
/// from the log, never a replica's own configuration: replicas configured differently still agree.
/// </summary>
public sealed class KeyValueLimitsTests
{
    private static LogEntry Entry(long index, KvCommand c) => new(index, 1, EntryType.Normal, KvCodec.Encode(c));

    private static KvIdempotency Key(string key) => new(key, $"fingerprint of {key}");

    /// <summary>
    /// The reproduction: PUT a=1 with key K1, PUT b with K2, PUT a=2, then a retry of K1, each from a client of its own
    /// (registered first, at indexes from to from + 3). A replica that keeps one idempotency record has forgotten K1 by
    /// then and would execute the retry (a=1); one with the default keeps it and replays (a=2).
    /// </summary>
    private static List<LogEntry> RetryAfterOtherKeys(long from) =>
    [
        .. Enumerable.Range(0, 4).Select(n => Entry(from + n, new KvRegister(n))),
        Entry(from + 4, new KvPut(from, 1, "a", "1") { Idempotency = Key("K1") }),
        Entry(from + 5, new KvPut(from + 1, 1, "b", "x") { Idempotency = Key("K2") }),
        Entry(from + 6, new KvPut(from + 2, 1, "a", "2")),
        Entry(from + 7, new KvPut(from + 3, 1, "a", "1") { Idempotency = Key("K1") }),
    ];

    [Fact]
    public void Replicas_with_different_local_limits_reach_the_same_state_from_the_same_log()
    {
        var small = new KeyValueStore(idempotencyRecordsMax: 1);
        var standard = new KeyValueStore();
        var log = RetryAfterOtherKeys(1);
        var answers = log.Select(e => (Small: small.Apply(e), Standard: standard.Apply(e))).ToList();

        Assert.All(answers, a => Assert.Equal(a.Standard, a.Small));
        Assert.Equal(("2", "2"), (standard.Get("a"), small.Get("a"))); // K1 replayed on both: the default limits apply
        Assert.Equal(standard.Snapshot(), small.Snapshot());
    }

    [Fact]
    public void The_limits_a_leader_proposes_apply_on_every_replica_whatever_its_own()
    {
        // The leader is the replica that keeps one record: its configuration entry makes that the cluster's limit.
        var small = new KeyValueStore(idempotencyRecordsMax: 1);
        var standard = new KeyValueStore();
        var log = new List<LogEntry> { Entry(1, new KvConfigure(1, small.LocalLimits)) };
        log.AddRange(RetryAfterOtherKeys(2));
        var answers = log.Select(e => (Small: small.Apply(e), Standard: standard.Apply(e))).ToList();

        Assert.All(answers, a => Assert.Equal(a.Small, a.Standard));
        Assert.Equal((1L, 1), (standard.ConfigVersion, standard.IdempotencyRecordsMax));
        // K1 was evicted by K2 on both, so its retry ran again on both: a=1 everywhere.
        Assert.False(answers[^1].Standard!.Replayed);
        Assert.Equal(("1", "1"), (small.Get("a"), standard.Get("a")));
        Assert.Equal(standard.Snapshot(), small.Snapshot());
    }

    [Fact]
    public void Only_the_next_configuration_version_applies_so_a_second_proposal_for_it_changes_nothing()
    {
        var kv = new KeyValueStore();
        Assert.Equal((0L, KvLimits.Default), (kv.ConfigVersion, kv.Limits));
        var first = new KvLimits(5, 60_000, 5);
        Assert.Null(kv.Apply(Entry(1, new KvConfigure(1, first))));
        // Another leader (or a duplicate) proposed version 1 too; later in the log, it is ignored.
        Assert.Null(kv.Apply(Entry(2, new KvConfigure(1, new KvLimits(9, 9, 9)))));
        Assert.Null(kv.Apply(Entry(3, new KvConfigure(3, new KvLimits(9, 9, 9)))));
        Assert.Equal((1L, first), (kv.ConfigVersion, kv.Limits));
    }

    [Fact]
    public void Smaller_limits_trim_the_tables_at_once_oldest_first()
    {
        var kv = new KeyValueStore();
        long i = 0;
        for (var client = 1; client <= 4; client++) kv.Apply(Entry(++i, new KvRegister(client))); // clients 1 to 4
        kv.Apply(Entry(++i, new KvClock(1_000)));
        for (var client = 1; client <= 4; client++)
            kv.Apply(Entry(++i, new KvPut(client, 1, $"k{client}", "v") { Idempotency = Key($"r{client}") }));
        kv.Apply(Entry(++i, new KvPut(1, 2, "k1", "w"))); // client 1 is now the most recent session
        Assert.Equal((4, 4), (kv.SessionCount, kv.IdempotencyRecordCount));

        kv.Apply(Entry(++i, new KvConfigure(1, new KvLimits(2, KeyValueStore.DefaultIdempotencyTtlMs, 1))));
        Assert.Equal((2, 1), (kv.SessionCount, kv.IdempotencyRecordCount));
        Assert.Equal((2L, (long?)null, (long?)null, 1L), (kv.SessionSequence(1)!.Value, kv.SessionSequence(2), kv.SessionSequence(3), kv.SessionSequence(4)!.Value));
        // r4 is the newest record and the only one kept.
        var nine = kv.Apply(Entry(++i, new KvRegister(9)))!.RegisteredClientId!.Value;
        Assert.True(kv.Apply(Entry(++i, new KvPut(nine, 1, "x", "v") { Idempotency = Key("r4") }))!.Replayed);
    }

    [Fact]
    public void A_configuration_round_trips_through_the_codec_and_invalid_limits_do_not_decode()
    {
        var configure = new KvConfigure(2, new KvLimits(3, 4_000, 5));
        Assert.Equal(configure, KvCodec.Decode(KvCodec.Encode(configure)));
        var bytes = KvCodec.Encode(new KvConfigure(1, new KvLimits(1, 1, 1)));
        bytes[^4] = 0; // records-max 0
        Assert.Null(KvCodec.Decode(bytes));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KvLimits(0, 1, 1));
    }
}

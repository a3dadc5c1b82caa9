using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>Snapshots of the key-value state machine: a restored store behaves exactly like the one it was taken from.</summary>
public sealed class KeyValueSnapshotTests
{
    private static LogEntry Entry(long index, KvCommand c) => new(index, 1, EntryType.Normal, KvCodec.Encode(c));

    private static KvIdempotency Key(string key, string fingerprint = "f") => new(key, fingerprint);

    /// <summary>A client registration; the client's id is the index it is applied at.</summary>
    private static KvRegister Register(long nonce) => new(nonce);

    /// <summary>The cluster's limits as the log sets them (the first configuration).</summary>
    private static KvConfigure Limits(int sessionsMax, long idempotencyTtlMs, int idempotencyRecordsMax) =>
        new(1, new KvLimits(sessionsMax, idempotencyTtlMs, idempotencyRecordsMax));

    /// <summary>
    /// A store with configured limits, data, sessions of clients 1 to 4 (registered at indexes 1 to 4; one with a stored
    /// CasMismatch answer), idempotency records made at different leader times.
    /// </summary>
    private static (KeyValueStore Store, long NextIndex) Populated(int sessionsMax = 100, int idempotencyRecordsMax = 100)
    {
        var kv = new KeyValueStore();
        long i = 0;
        for (var client = 1; client <= 4; client++) kv.Apply(Entry(++i, Register(1_000 + client)));
        kv.Apply(Entry(++i, Limits(sessionsMax, 1_000, idempotencyRecordsMax)));
        kv.Apply(Entry(++i, new KvClock(10_000)));
        kv.Apply(Entry(++i, new KvPut(1, 1, "a", "1")));
        kv.Apply(Entry(++i, new KvCas(2, 1, "a", "x", "2"))); // mismatch, the answer carries the current value
        kv.Apply(Entry(++i, new KvPut(3, 1, "b", "ä") { Idempotency = Key("idem-1") }));
        kv.Apply(Entry(++i, new KvClock(10_400)));
        kv.Apply(Entry(++i, new KvPut(4, 1, "c", "3") { Idempotency = Key("idem-2") }));
        kv.Apply(Entry(++i, new KvDelete(1, 2, "zz")));
        kv.Apply(new LogEntry(++i, 1, EntryType.NoOp, LogEntry.EmptyData));
        return (kv, i + 1);
    }

    /// <summary>
    /// What happens next: four new clients register (their ids are the first four indexes), then a replayed key, a stale
    /// and a repeated sequence, a clock that expires idem-1, new keys.
    /// </summary>
    private static (List<LogEntry> Entries, long[] NewClients) Continuation(long from)
    {
        long[] c = [from, from + 1, from + 2, from + 3];
        KvCommand[] commands =
        [
            .. c.Select(id => Register(2_000 + id)),
            new KvPut(c[0], 1, "b", "other") { Idempotency = Key("idem-1") },
            new KvPut(1, 1, "a", "stale"),
            new KvCas(2, 1, "a", "x", "2"),
            new KvPut(c[1], 1, "c", "other") { Idempotency = Key("idem-2", "another request") },
            new KvClock(11_100),
            new KvPut(c[2], 1, "b", "after expiry") { Idempotency = Key("idem-1") },
            new KvPut(c[3], 1, "d", "4") { Idempotency = Key("idem-3") },
        ];
        return (commands.Select((command, n) => Entry(from + n, command)).ToList(), c);
    }

    /// <summary>What a store shows through its own API, independent of its snapshot encoding.</summary>
    private sealed record Observed(string Items, long AppliedIndex, long LeaderTimeMs, string Sessions, int SessionCount, int IdempotencyRecords);

    /// <summary>The observable state, with the session sequence of each of <paramref name="clients"/> ("-" for none).</summary>
    private static Observed Observe(KeyValueStore kv, params long[] clients) => new(
        string.Join(",", kv.Items.Select(i => $"{i.Key}={i.Value}")), kv.AppliedIndex, kv.LeaderTimeMs,
        string.Join(",", clients.Select(c => $"{c}:{kv.SessionSequence(c)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}")),
        kv.SessionCount, kv.IdempotencyRecordCount);

    private static readonly long[] PopulatedClients = [1, 2, 3, 4, 5];

    /// <summary>Populated's state worked out from its commands: client 1's delete of a missing key still advances its session.</summary>
    private static readonly Observed PopulatedState = new("a=1,b=ä,c=3", 13, 10_400, "1:2,2:1,3:1,4:1,5:-", 4, 2);

    /// <summary>A fresh store (this replica's own limits are the defaults) restored from the original's snapshot.</summary>
    private static KeyValueStore RestoredCopy(KeyValueStore original)
    {
        var copy = new KeyValueStore();
        copy.Restore(original.Snapshot());
        return copy;
    }

    [Fact]
    public void A_restored_store_has_the_same_state_and_answers_the_next_commands_identically()
    {
        var (original, next) = Populated();
        Assert.Equal(PopulatedState, Observe(original, PopulatedClients));
        var copy = RestoredCopy(original);
        Assert.Equal(PopulatedState, Observe(copy, PopulatedClients));
        Assert.Equal(original.Snapshot(), copy.Snapshot()); // canonical: restoring and snapshotting again gives the same bytes

        var (continuation, newClients) = Continuation(next);
        var all = continuation.Select(e => (Original: original.Apply(e), Copy: copy.Apply(e))).ToList();
        Assert.All(all, r => Assert.Equal(r.Original, r.Copy));
        var results = all.Skip(newClients.Length).ToList(); // the answers after the registrations
        // The properties the snapshot must carry, each visible in the answers:
        Assert.True(results[0].Copy!.Replayed, "an idempotency key used before the snapshot must replay after it");
        Assert.Equal(KvStatus.Ok, results[0].Copy!.Result.Status);
        Assert.Equal(KvStatus.StaleSequence, results[1].Copy!.Result.Status);
        Assert.Equal(new KvResult(KvStatus.CasMismatch, "1"), results[2].Copy!.Result); // the stored answer of a repeated sequence
        Assert.True(results[2].Copy!.Duplicate);
        Assert.Equal(KvStatus.IdempotencyMismatch, results[3].Copy!.Result.Status);
        Assert.False(results[5].Copy!.Replayed, "idem-1 was made at leader time 10000 and must expire by 11100");
        Assert.Equal("after expiry", copy.Get("b"));
        // The store that applied everything and the one restored midway hold the same state, seen and encoded
        // (records: idem-1 expired and was made again, idem-2 not yet expired, idem-3 new).
        long[] clients = [.. PopulatedClients, .. newClients];
        var sessions = "1:2,2:1,3:1,4:1,5:-," + string.Join(",", newClients.Select(id => $"{id}:1"));
        Assert.Equal(new Observed("a=1,b=after expiry,c=3,d=4", next + 10, 11_100, sessions, 8, 3), Observe(copy, clients));
        Assert.Equal(Observe(original, clients), Observe(copy, clients));
        Assert.Equal(original.Snapshot(), copy.Snapshot());
    }

    [Fact]
    public void Eviction_order_after_restore_equals_the_original()
    {
        var kv = new KeyValueStore();
        long i = 0;
        // Records by age r2, r3, r1 (not their key order); sessions of clients 1, 2, 3 (registered at those indexes) by last use 2, 3, 1.
        for (var client = 1; client <= 3; client++) kv.Apply(Entry(++i, Register(client)));
        kv.Apply(Entry(++i, Limits(sessionsMax: 3, idempotencyTtlMs: 1_000_000, idempotencyRecordsMax: 3)));
        kv.Apply(Entry(++i, new KvClock(100)));
        kv.Apply(Entry(++i, new KvPut(2, 1, "k2", "v") { Idempotency = Key("r2") }));
        kv.Apply(Entry(++i, new KvPut(3, 1, "k3", "v") { Idempotency = Key("r3") }));
        kv.Apply(Entry(++i, new KvClock(300)));
        kv.Apply(Entry(++i, new KvPut(1, 1, "k1", "v") { Idempotency = Key("r1") }));
        kv.Apply(Entry(++i, new KvPut(1, 2, "k1", "w")));
        var copy = RestoredCopy(kv);
        Assert.Equal(kv.Limits, copy.Limits); // the cluster's limits travel in the snapshot

        // Two new clients register (evicting two sessions) and write new keys (evicting two records) in each store.
        foreach (var store in new[] { kv, copy })
        {
            store.Apply(Entry(i + 1, Register(4)));
            store.Apply(Entry(i + 2, new KvPut(i + 1, 1, "k4", "v") { Idempotency = Key("r4") }));
            store.Apply(Entry(i + 3, Register(5)));
            store.Apply(Entry(i + 4, new KvPut(i + 3, 1, "k5", "v") { Idempotency = Key("r5") }));
        }
        foreach (var store in new[] { kv, copy })
        {
            Assert.Null(store.SessionSequence(2));
            Assert.Null(store.SessionSequence(3));
            Assert.Equal(2, store.SessionSequence(1));
            // r1 is the only survivor of the old records: a replay of it still replays, of r2 executes anew.
            store.Apply(Entry(i + 5, Register(6)));
            Assert.True(store.Apply(Entry(i + 6, new KvPut(i + 5, 1, "x", "v") { Idempotency = Key("r1") }))!.Replayed);
            store.Apply(Entry(i + 7, Register(7)));
            Assert.False(store.Apply(Entry(i + 8, new KvPut(i + 7, 1, "y", "v") { Idempotency = Key("r2") }))!.Replayed);
        }
        Assert.Equal(kv.Snapshot(), copy.Snapshot());
    }

    [Fact]
    public void Equal_states_reached_in_different_orders_give_equal_bytes()
    {
        // Clients 1 and 2 are registered at indexes 1 and 2 in every store.
        var a = new KeyValueStore();
        a.Apply(Entry(1, Register(1)));
        a.Apply(Entry(2, Register(2)));
        a.Apply(Entry(3, new KvPut(1, 1, "b", "1") { Idempotency = Key("y") }));
        a.Apply(Entry(4, new KvPut(2, 1, "a", "1") { Idempotency = Key("x") }));
        var b = new KeyValueStore();
        b.Apply(Entry(1, Register(1)));
        b.Apply(Entry(2, Register(2)));
        b.Apply(Entry(3, new KvPut(1, 1, "a", "1") { Idempotency = Key("x") }));
        b.Apply(Entry(4, new KvPut(2, 1, "b", "1") { Idempotency = Key("y") }));
        // Same data and sessions, but the records were made at other indexes: different states, different bytes.
        Assert.NotEqual(a.Snapshot(), b.Snapshot());

        var c = new KeyValueStore();
        for (var n = 1; n <= 9; n++) c.Apply(Entry(n, Register(n)));
        c.Apply(Entry(10, new KvPut(9, 1, "z", "gone")));
        c.Restore(a.Snapshot());
        // Restore replaces, it does not merge: c shows exactly a's state.
        Assert.Equal(new Observed("a=1,b=1", 4, 0, "1:1,2:1,9:-", 2, 2), Observe(c, 1, 2, 9));
        Assert.Equal(Observe(a, 1, 2, 9), Observe(c, 1, 2, 9));
        Assert.Equal(a.Snapshot(), c.Snapshot());

        // Same data and sessions built with keys inserted in opposite orders (dictionary order differs): equal bytes.
        var d = new KeyValueStore();
        d.Apply(Entry(1, Register(1)));
        d.Apply(Entry(2, new KvPut(1, 1, "q", "1")));
        d.Apply(Entry(3, new KvPut(1, 2, "p", "1")));
        var e = new KeyValueStore();
        e.Apply(Entry(1, Register(1)));
        e.Apply(Entry(2, new KvPut(1, 1, "p", "1")));
        e.Apply(Entry(3, new KvPut(1, 2, "q", "1")));
        Assert.Equal(new Observed("p=1,q=1", 3, 0, "1:2", 1, 0), Observe(d, 1));
        Assert.Equal(Observe(d, 1), Observe(e, 1));
        Assert.Equal(d.Snapshot(), e.Snapshot());
        // Either snapshot restores into a fresh store showing that state.
        var f = new KeyValueStore();
        f.Restore(e.Snapshot());
        Assert.Equal(Observe(d, 1), Observe(f, 1));
    }

    [Fact]
    public void Bytes_that_are_not_a_snapshot_are_refused_and_leave_the_store_unchanged()
    {
        var (kv, _) = Populated();
        var before = kv.Snapshot();
        var valid = Populated().Store.Snapshot();
        var random = new DeterministicRandom(5);
        List<byte[]> garbage =
        [
            [],
            [1, 2, 3],
            KvCodec.Encode(new KvPut(1, 1, "k", "v")),
            [.. valid, 0], // trailing byte
        ];
        for (var n = 0; n < 20; n++)
        {
            var bytes = new byte[random.NextInt(1, 200)];
            for (var j = 0; j < bytes.Length; j++) bytes[j] = (byte)random.NextInt(0, 256);
            garbage.Add(bytes);
        }
        for (var length = 0; length < valid.Length; length++) garbage.Add(valid[..length]); // every truncation
        var wrongVersion = valid.ToArray();
        wrongVersion[4] = 99;
        garbage.Add(wrongVersion);

        var target = RestoredCopy(kv);
        foreach (var bytes in garbage)
        {
            Assert.Throws<FormatException>(() => target.Restore(bytes));
            Assert.Equal(PopulatedState, Observe(target, PopulatedClients));
            Assert.Equal(before, target.Snapshot());
        }
        Assert.Throws<ArgumentNullException>(() => target.Restore(null!));
    }

    [Fact]
    public void A_store_with_smaller_limits_of_its_own_restores_the_snapshot_and_takes_the_clusters_limits()
    {
        // Its own configuration plays no part (it once refused this snapshot): the snapshot carries the cluster's limits.
        var (kv, _) = Populated();
        Assert.True(kv.SessionCount > 2 && kv.IdempotencyRecordCount == 2);
        var small = new KeyValueStore(sessionsMax: 2, idempotencyRecordsMax: 1);
        small.Restore(kv.Snapshot());
        Assert.Equal(PopulatedState, Observe(small, PopulatedClients));
        Assert.Equal((1L, new KvLimits(100, 1_000, 100)), (small.ConfigVersion, small.Limits));
        Assert.Equal(new KvLimits(2, KeyValueStore.DefaultIdempotencyTtlMs, 1), small.LocalLimits);
        Assert.Equal(kv.Snapshot(), small.Snapshot());
    }

    [Fact]
    public void A_version_1_snapshot_without_limits_restores_with_the_defaults_until_the_log_configures_them()
    {
        var v1 = new MemoryStream();
        using (var w = new BinaryWriter(v1))
        {
            w.Write(0x5356_4B44u); // magic
            w.Write((byte)1);
            w.Write(3L); // applied index
            w.Write(0L); // leader time
            w.Write(1); w.Write("k"); w.Write("v"); // data
            w.Write(1); w.Write(7L); w.Write(1L); w.Write(2L); w.Write((byte)KvStatus.Ok); w.Write(false); // client 7's session
            w.Write(0); // no idempotency records
        }
        var kv = new KeyValueStore(sessionsMax: 5);
        kv.Restore(v1.ToArray());
        Assert.Equal((0L, KvLimits.Default), (kv.ConfigVersion, kv.Limits));
        Assert.Equal(new Observed("k=v", 3, 0, "7:1", 1, 0), Observe(kv, 7));

        kv.Apply(Entry(4, Limits(1, 1_000, 1)));
        Assert.Equal((1L, 1), (kv.ConfigVersion, kv.SessionsMax));
        var copy = RestoredCopy(kv); // written as version 2, with the limits
        Assert.Equal((1L, new KvLimits(1, 1_000, 1)), (copy.ConfigVersion, copy.Limits));
        Assert.Equal(kv.Snapshot(), copy.Snapshot());
    }

    [Fact]
    public void An_empty_store_round_trips()
    {
        var empty = new KeyValueStore();
        var copy = new KeyValueStore();
        copy.Apply(Entry(1, Register(1)));
        copy.Apply(Entry(2, new KvPut(1, 1, "old", "v")));
        Assert.Equal(new Observed("old=v", 2, 0, "1:1", 1, 0), Observe(copy, 1));
        copy.Restore(empty.Snapshot());
        Assert.Equal(new Observed("", 0, 0, "1:-", 0, 0), Observe(copy, 1));
        Assert.Equal(empty.Snapshot(), copy.Snapshot());
        Assert.Equal(1, copy.Apply(Entry(1, Register(1)))!.RegisteredClientId);
    }
}

using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>The replicated key-value state machine and its client sessions (Raft dissertation 6.3).</summary>
public sealed class KeyValueStoreTests
{
    private long _index;
    private long _nonce;

    private LogEntry Entry(KvCommand c) => new(++_index, 1, EntryType.Normal, KvCodec.Encode(c));

    private static KvConfigure SessionsMax(int sessionsMax) =>
        new(1, new KvLimits(sessionsMax, KeyValueStore.DefaultIdempotencyTtlMs, KeyValueStore.DefaultIdempotencyRecordsMax));

    /// <summary>Registers a client through the log; its id is the index of the registering entry.</summary>
    private long Register(KeyValueStore kv)
    {
        var applied = kv.Apply(Entry(new KvRegister(++_nonce)))!;
        Assert.Equal((_nonce, 0L, KvStatus.Ok, (long?)applied.Index), (applied.ClientId, applied.Sequence, applied.Result.Status, applied.RegisteredClientId));
        Assert.Equal(0, kv.SessionSequence(applied.Index));
        return applied.Index;
    }

    [Fact]
    public void PutGetDeleteAndCas()
    {
        var kv = new KeyValueStore();
        var c = Register(kv);
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(new KvPut(c, 1, "a", "x")))!.Result.Status);
        Assert.Equal("x", kv.Get("a"));
        Assert.Equal(new KvResult(KvStatus.CasMismatch, "x"), kv.Apply(Entry(new KvCas(c, 2, "a", "y", "z")))!.Result);
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(new KvCas(c, 3, "a", "x", "z")))!.Result.Status);
        Assert.Equal("z", kv.Get("a"));
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(new KvDelete(c, 4, "a")))!.Result.Status);
        Assert.Null(kv.Get("a"));
        Assert.Equal(KvStatus.NotFound, kv.Apply(Entry(new KvDelete(c, 5, "a")))!.Result.Status);
    }

    [Fact]
    public void CasWithNullExpectedRequiresAbsentKey()
    {
        var kv = new KeyValueStore();
        var (one, two) = (Register(kv), Register(kv));
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(new KvCas(one, 1, "k", null, "first")))!.Result.Status);
        Assert.Equal(new KvResult(KvStatus.CasMismatch, "first"), kv.Apply(Entry(new KvCas(two, 1, "k", null, "second")))!.Result);
        Assert.Equal("first", kv.Get("k"));
    }

    [Fact]
    public void Dissertation6_3_DuplicateCommandIsAppliedOnceAndReturnsStoredResponse()
    {
        var kv = new KeyValueStore();
        var (seven, eight) = (Register(kv), Register(kv));
        var cas = new KvCas(seven, 1, "k", null, "v1");
        var first = kv.Apply(Entry(cas))!;
        kv.Apply(Entry(new KvPut(eight, 1, "k", "other")));
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
        var c = Register(kv);
        kv.Apply(Entry(new KvPut(c, 1, "k", "a")));
        kv.Apply(Entry(new KvPut(c, 2, "k", "b")));
        var old = kv.Apply(Entry(new KvPut(c, 1, "k", "a")))!;
        Assert.Equal(KvStatus.StaleSequence, old.Result.Status);
        Assert.Equal("b", kv.Get("k"));
    }

    [Fact]
    public void Dissertation6_3_SessionTableIsBoundedAndEvictsLeastRecentlyUsed()
    {
        var kv = new KeyValueStore();
        kv.Apply(Entry(SessionsMax(3))); // the cluster's limit, from the log
        var (one, two, three) = (Register(kv), Register(kv), Register(kv));
        kv.Apply(Entry(new KvPut(one, 1, "a", "1")));
        kv.Apply(Entry(new KvPut(two, 1, "b", "1")));
        kv.Apply(Entry(new KvPut(three, 1, "c", "1")));
        kv.Apply(Entry(new KvPut(one, 2, "a", "2"))); // client one is now more recent than client two
        var four = Register(kv); // evicts client two
        kv.Apply(Entry(new KvPut(four, 1, "d", "1")));

        Assert.Equal(3, kv.SessionCount);
        Assert.Null(kv.SessionSequence(two));
        Assert.Equal(2, kv.SessionSequence(one));
        var expired = kv.Apply(Entry(new KvPut(two, 2, "b", "2")))!;
        Assert.Equal(KvStatus.SessionExpired, expired.Result.Status);
        Assert.Equal("1", kv.Get("b")); // not applied
    }

    [Fact]
    public void Dissertation6_3_A_delayed_duplicate_of_an_evicted_clients_first_command_is_not_executed()
    {
        var kv = new KeyValueStore();
        kv.Apply(Entry(SessionsMax(1)));
        var client = Register(kv);
        var first = new KvPut(client, 1, "k", "first");
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(first))!.Result.Status);
        var other = Register(kv); // the table holds one session: the first client's is evicted
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(new KvPut(other, 1, "k", "second")))!.Result.Status);
        Assert.Null(kv.SessionSequence(client));

        var duplicate = kv.Apply(Entry(first))!; // the network delivered the first proposal again, late
        Assert.Equal(KvStatus.SessionExpired, duplicate.Result.Status);
        Assert.Equal("second", kv.Get("k"));
        Assert.Null(kv.SessionSequence(client));
    }

    [Fact]
    public void Dissertation6_3_A_client_that_never_registered_is_answered_session_expired_and_nothing_runs()
    {
        var kv = new KeyValueStore();
        foreach (var sequence in new long[] { 1, 2 })
        {
            var answer = kv.Apply(Entry(new KvPut(42, sequence, "k", "v")))!;
            Assert.Equal((KvStatus.SessionExpired, false), (answer.Result.Status, answer.Duplicate));
        }
        Assert.Null(kv.Get("k"));
        Assert.Equal(0, kv.SessionCount);
        // Sequence 0 is the registration's own; no command of a client carries it.
        var c = Register(kv);
        Assert.Equal(KvStatus.Invalid, kv.Apply(Entry(new KvPut(c, 0, "k", "v")))!.Result.Status);
        Assert.Null(kv.Get("k"));
    }

    [Fact]
    public void Dissertation6_3_A_duplicated_registration_registers_another_client_and_never_revives_an_evicted_one()
    {
        var kv = new KeyValueStore();
        kv.Apply(Entry(SessionsMax(1)));
        var register = new KvRegister(7);
        var first = kv.Apply(Entry(register))!.RegisteredClientId!.Value;
        kv.Apply(Entry(new KvPut(first, 1, "k", "once")));
        var again = kv.Apply(Entry(register))!; // the same proposal, delivered twice: another id, and it evicts the first
        Assert.NotEqual(first, again.RegisteredClientId);
        Assert.Null(kv.SessionSequence(first));
        Assert.Equal(KvStatus.SessionExpired, kv.Apply(Entry(new KvPut(first, 1, "k", "twice")))!.Result.Status);
        Assert.Equal("once", kv.Get("k"));
    }

    [Fact]
    public void Commands_written_before_clients_registered_replay_with_their_old_session_rule()
    {
        // Format 2 (and 1) had no registration: sequence 1 of an unknown client opened its session, and still does.
        var legacy = new KvPut(5, 1, "k", "old") { LegacyImplicitSession = true };
        var bytes = KvCodec.Encode(legacy);
        Assert.Equal(2, bytes[0]);
        Assert.Equal(legacy, KvCodec.Decode(bytes));
        var kv = new KeyValueStore();
        Assert.Equal(KvStatus.Ok, kv.Apply(Entry(legacy))!.Result.Status);
        Assert.Equal(("old", 1L), (kv.Get("k"), kv.SessionSequence(5)!.Value));
        Assert.Equal(KvStatus.SessionExpired, kv.Apply(Entry(new KvPut(6, 2, "k", "x") { LegacyImplicitSession = true }))!.Result.Status);
        // The same command written now is not a registration.
        Assert.Equal(3, KvCodec.Encode(legacy with { LegacyImplicitSession = false })[0]);
        Assert.Equal(KvStatus.SessionExpired, kv.Apply(Entry(new KvPut(8, 1, "k", "new")))!.Result.Status);
        Assert.Equal("old", kv.Get("k"));
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
            new KvRegister(long.MinValue),
        ];
        foreach (var c in commands) Assert.Equal(c, KvCodec.Decode(KvCodec.Encode(c)));
        Assert.Throws<ArgumentException>(() => KvCodec.Encode(new KvPut(1, 1, "k", new string('x', KvCodec.ValueBytesMax + 1))));
        Assert.Null(KvCodec.Decode([.. KvCodec.Encode(commands[0]), 0])); // trailing bytes
        Assert.Null(KvCodec.Decode([.. KvCodec.Encode(commands[4]), 0]));
    }

    [Fact]
    public void ReplicasApplyingTheSameLogReachTheSameState()
    {
        var random = new DeterministicRandom(11);
        var log = new List<LogEntry> { new(1, 1, EntryType.Normal, KvCodec.Encode(SessionsMax(3))) };
        var clients = new List<long>();
        for (var i = 2; i <= 300; i++)
        {
            KvCommand c;
            if (clients.Count == 0 || random.Chance(0.1))
            {
                c = new KvRegister(i);
                clients.Add(i); // registered under its index; at most three of them still have a session
            }
            else
            {
                var client = clients[random.NextInt(0, clients.Count)];
                var seq = random.NextInt(1, 4);
                var key = $"k{random.NextInt(0, 4)}";
                c = random.NextInt(0, 3) switch
                {
                    0 => new KvPut(client, seq, key, $"v{i}"),
                    1 => new KvDelete(client, seq, key),
                    _ => new KvCas(client, seq, key, random.Chance(0.3) ? null : $"v{i - 1}", $"v{i}"),
                };
            }
            log.Add(new LogEntry(i, 1, EntryType.Normal, KvCodec.Encode(c)));
        }
        var a = new KeyValueStore();
        var b = new KeyValueStore(sessionsMax: 50); // its own configuration differs; the log's limit applies
        var ra = log.Select(e => a.Apply(e)).ToList();
        var rb = log.Select(e => b.Apply(e)).ToList();
        Assert.Equal(ra, rb);
        Assert.Equal(a.Items, b.Items);
        Assert.Equal(3, b.SessionCount);
        Assert.Contains(ra, r => r is { Result.Status: KvStatus.SessionExpired }); // evicted clients were refused
        Assert.Contains(ra, r => r is { Result.Status: KvStatus.Ok, RegisteredClientId: null });
        Assert.Equal(a.Snapshot(), b.Snapshot());
    }
}

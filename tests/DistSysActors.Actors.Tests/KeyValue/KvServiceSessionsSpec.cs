using Akka.TestKit.Xunit2;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.StateMachine;
using DistSysActors.Core.KeyValue;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Actors.Tests.KeyValue;

/// <summary>
/// Client sessions as the key-value service uses them (dissertation 6.3): registered through the log before a
/// session's first command, reused afterwards, registered anew when the cluster evicted one.
/// </summary>
public sealed class KvServiceSessionsSpec : TestKit
{
    /// <summary>A consensus log that appends what is proposed; <see cref="CommitAll"/> applies it to the service, in order.</summary>
    private sealed class FakeLog : IConsensusLog
    {
        public bool IsLeader => true;
        public List<byte[]> Entries { get; } = [];
        public int Applied { get; set; }
        public string? Propose(byte[] command) { Entries.Add(command); return null; }
        public void ConfirmRead(long requestId, bool lease) { }
        public KvCommand? this[long index] => KvCodec.Decode(Entries[(int)index - 1]);

        /// <summary>Applies every entry not yet applied, and those the service proposes meanwhile.</summary>
        public void CommitAll(KvService service)
        {
            while (Applied < Entries.Count) service.Apply(++Applied, Entries[Applied - 1]);
        }
    }

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public void A_write_registers_its_session_first_and_later_writes_reuse_it()
    {
        var log = new FakeLog();
        var service = new KvService(log, KvSettings.Default, RequestTimeout);
        var client = CreateTestProbe();
        service.Receive(new Put("a", "1"), client.Ref);
        var register = Assert.IsType<KvRegister>(Assert.Single(log.Entries.Select(KvCodec.Decode)));
        Assert.Equal(1, service.Status.PendingWrites); // waiting for its registration, nothing else proposed yet

        log.CommitAll(service); // index 1: the registration; index 2: the put, proposed once it was applied
        Assert.Equal(new KvPut(1, 1, "a", "1"), log[2]);
        Assert.Equal(new WriteResult(KvStatus.Ok, 2, null), client.ExpectMsg<WriteResult>());

        service.Receive(new Put("a", "2"), client.Ref);
        Assert.Equal(new KvPut(1, 2, "a", "2"), log[3]); // the same session, its next sequence: no registration
        log.CommitAll(service);
        Assert.Equal(new WriteResult(KvStatus.Ok, 3, null), client.ExpectMsg<WriteResult>());
        Assert.Equal(register, Assert.Single(log.Entries.Select(KvCodec.Decode).OfType<KvRegister>()));
    }

    [Fact]
    public void A_write_whose_session_was_evicted_registers_again_and_succeeds_applied_once()
    {
        var log = new FakeLog();
        var service = new KvService(log, KvSettings.Default, RequestTimeout);
        var client = CreateTestProbe();
        log.Propose(KvCodec.Encode(new KvConfigure(1, new KvLimits(1, KvLimits.Default.IdempotencyTtlMs, KvLimits.Default.IdempotencyRecordsMax))));
        service.Receive(new Put("a", "1"), client.Ref);
        log.CommitAll(service); // 1 limits, 2 registration (client 2), 3 the put
        client.ExpectMsg<WriteResult>();

        // Another node registers a client: the table holds one session, so this node's is evicted.
        log.Propose(KvCodec.Encode(new KvRegister(12345)));
        log.CommitAll(service);
        service.Receive(new Put("a", "2"), client.Ref);
        Assert.Equal(new KvPut(2, 2, "a", "2"), log[5]);
        log.CommitAll(service); // 5 SessionExpired, 6 a new registration, 7 the put again under client 6

        Assert.IsType<KvRegister>(log[6]);
        Assert.Equal(new KvPut(6, 1, "a", "2"), log[7]);
        Assert.Equal(new WriteResult(KvStatus.Ok, 7, null), client.ExpectMsg<WriteResult>()); // a normal answer for the client
        client.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, service.Status.PendingWrites);
    }

    [Fact]
    public void When_a_snapshot_replaced_entries_meanwhile_an_expired_session_is_reported_as_an_unknown_outcome()
    {
        var log = new FakeLog();
        var service = new KvService(log, KvSettings.Default, RequestTimeout);
        var client = CreateTestProbe();
        log.Propose(KvCodec.Encode(new KvConfigure(1, new KvLimits(1, KvLimits.Default.IdempotencyTtlMs, KvLimits.Default.IdempotencyRecordsMax))));
        service.Receive(new Put("a", "1"), client.Ref);
        log.CommitAll(service);
        client.ExpectMsg<WriteResult>();

        // The next write is proposed; then a snapshot arrives (its entries were never applied here), in which the
        // session was evicted. Whether the write is in it cannot be told: no retry, the outcome is unknown.
        service.Receive(new Put("a", "2"), client.Ref);
        var other = new KvService(new FakeLog(), KvSettings.Default, RequestTimeout);
        var entries = log.Entries.ToList();
        for (var i = 0; i < entries.Count; i++) other.Apply(i + 1, entries[i]);
        other.Apply(entries.Count + 1, KvCodec.Encode(new KvRegister(99))); // evicts the session
        service.Restore(other.Snapshot());
        log.Entries.Add(KvCodec.Encode(new KvRegister(99))); // the log as the snapshot has it
        log.Applied = log.Entries.Count;
        log.Entries.Add(entries[^1]); // the write, applied after the snapshot: SessionExpired
        log.CommitAll(service);

        var answer = client.ExpectMsg<Unavailable>();
        Assert.True(answer.Unknown, answer.Reason);
        Assert.Equal(log.Entries.Count, log.Applied); // nothing was proposed again
    }

    [Fact]
    public void A_retry_of_an_answered_idempotent_write_is_proposed_and_replayed_under_a_new_or_reused_session()
    {
        var log = new FakeLog();
        var service = new KvService(log, KvSettings.Default, RequestTimeout);
        var client = CreateTestProbe();
        var key = new KvIdempotency("K1", "put a 1");
        service.Receive(new Put("a", "1") { Idempotency = key }, client.Ref); // registers first
        log.CommitAll(service);
        var first = client.ExpectMsg<WriteResult>();
        Assert.False(first.Replayed);

        for (var retry = 0; retry < 2; retry++) // the first retry reuses the session, the second comes while it is busy
        {
            var before = log.Entries.Count;
            service.Receive(new Put("a", "1") { Idempotency = key }, client.Ref);
            if (retry == 1) service.Receive(new Put("b", "x"), client.Ref);
            Assert.True(log.Entries.Count > before, "the retry was not proposed: the key still counted as in flight");
            log.CommitAll(service);
            var replay = client.ExpectMsg<WriteResult>();
            Assert.Equal((first.Index, true), (replay.Index, replay.Replayed));
            if (retry == 1) client.ExpectMsg<WriteResult>();
        }
        Assert.Equal(0, service.Status.PendingWrites);
    }

    [Fact]
    public void A_new_leader_gets_every_waiting_write_again_and_a_write_committed_twice_is_applied_and_answered_once()
    {
        var log = new FakeLog();
        var service = new KvService(log, KvSettings.Default, RequestTimeout);
        var client = CreateTestProbe();
        service.Receive(new Put("a", "1"), client.Ref);
        log.CommitAll(service); // 1 registration, 2 the put
        client.ExpectMsg<WriteResult>();

        service.Receive(new Put("a", "2"), client.Ref);
        var first = log.Entries[^1];
        // The leader it went to died before appending it; another one is known now.
        log.Entries.RemoveAt(log.Entries.Count - 1);
        service.LeaderChanged();
        Assert.Equal(first, log.Entries[^1]); // the same command: same session, same sequence number
        // And the old leader did append it after all: both copies commit.
        log.Entries.Add(first);
        log.CommitAll(service);

        Assert.Equal(new WriteResult(KvStatus.Ok, 3, null), client.ExpectMsg<WriteResult>());
        client.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, service.Status.PendingWrites);
        service.LeaderChanged();
        Assert.Equal(4, log.Entries.Count); // nothing waits, nothing is proposed again
    }
}

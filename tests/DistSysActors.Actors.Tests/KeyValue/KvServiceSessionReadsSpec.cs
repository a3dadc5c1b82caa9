using Akka.TestKit.Xunit2;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.StateMachine;
using DistSysActors.Core.KeyValue;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Actors.Tests.KeyValue;

/// <summary>
/// Session read guarantees served from a replica's own applied state: read-your-writes and monotonic reads wait for
/// their min-index and answer Behind rather than an older value; bounded reads are served only within their lag bound.
/// </summary>
public sealed class KvServiceSessionReadsSpec : TestKit
{
    /// <summary>A replica's log as the service sees it: commands are applied only when the test says so; its lag is set by the test.</summary>
    private sealed class ReplicaLog : IConsensusLog
    {
        public bool IsLeader => false;
        public long? Lag { get; set; }
        public long? LagMs => Lag;
        public string? Propose(byte[] command) => null;
        public void ConfirmRead(long requestId, bool lease) => throw new InvalidOperationException("a session read must not ask the leader");
    }

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Applies a registration (index 1) and then puts of <paramref name="key"/> at the given indexes (value "v{index}").</summary>
    private static void ApplyPuts(KvService service, string key, params long[] indexes)
    {
        if (service.AppliedIndex == 0) service.Apply(1, KvCodec.Encode(new KvRegister(7)));
        foreach (var index in indexes)
            service.Apply(index, KvCodec.Encode(new KvPut(1, index, key, $"v{index}")));
    }

    private (KvService Service, ReplicaLog Log) Replica(int sessionWaitMs = 1_000)
    {
        var log = new ReplicaLog();
        return (new KvService(log, KvSettings.Default with { SessionWaitMs = sessionWaitMs }, RequestTimeout), log);
    }

    [Fact]
    public void A_read_your_writes_read_is_served_at_once_when_the_replica_has_applied_its_min_index()
    {
        var (service, _) = Replica();
        ApplyPuts(service, "k", 2, 3);
        var client = CreateTestProbe();
        service.Receive(new Get("k", Consistency.ReadYourWrites, MinIndex: 3), client.Ref);
        Assert.Equal(new ReadResult("v3", 3), client.ExpectMsg<ReadResult>());
        service.Receive(new Get("k", Consistency.Monotonic, MinIndex: 2), client.Ref);
        Assert.Equal(new ReadResult("v3", 3), client.ExpectMsg<ReadResult>());
    }

    [Fact]
    public void A_replica_behind_the_min_index_answers_only_once_it_applies_it_never_with_the_older_value()
    {
        var (service, _) = Replica();
        ApplyPuts(service, "k", 2);
        var ryw = CreateTestProbe();
        var monotonic = CreateTestProbe();
        service.Receive(new Get("k", Consistency.ReadYourWrites, MinIndex: 4), ryw.Ref);
        service.Receive(new Get("k", Consistency.Monotonic, MinIndex: 3), monotonic.Ref);
        ryw.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // v2 is older than the client's write: not an answer
        Assert.Equal(2, service.Status.PendingReads);

        ApplyPuts(service, "k", 3);
        Assert.Equal(new ReadResult("v3", 3), monotonic.ExpectMsg<ReadResult>());
        ryw.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        ApplyPuts(service, "k", 4);
        Assert.Equal(new ReadResult("v4", 4), ryw.ExpectMsg<ReadResult>());
        Assert.Equal(0, service.Status.PendingReads);
    }

    [Fact]
    public void A_replica_still_behind_after_the_session_wait_answers_behind_with_its_applied_index()
    {
        var (service, _) = Replica(sessionWaitMs: 20);
        ApplyPuts(service, "k", 2);
        var client = CreateTestProbe();
        service.Receive(new Get("k", Consistency.ReadYourWrites, MinIndex: 9), client.Ref);
        var sweep = service.Timers.Select(t => t.Message).Single(m => m.GetType().Name == "SessionSweep");
        AwaitAssert(() =>
        {
            service.Receive(sweep, client.Ref);
            var behind = client.ExpectMsg<Behind>(TimeSpan.FromMilliseconds(10));
            Assert.Equal(2, behind.AppliedIndex);
            Assert.Contains("min-index 9", behind.Reason);
        }, TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20));
        Assert.Equal(0, service.Status.PendingReads);

        var (noWait, _) = Replica(sessionWaitMs: 0);
        ApplyPuts(noWait, "k", 2);
        noWait.Receive(new Get("k", Consistency.Monotonic, MinIndex: 3), client.Ref);
        Assert.Equal(2, client.ExpectMsg<Behind>().AppliedIndex); // no wait configured: at once
    }

    [Fact]
    public void A_bounded_read_is_served_only_while_the_replica_lag_is_known_and_within_the_bound()
    {
        var (service, log) = Replica();
        ApplyPuts(service, "k", 2);
        var client = CreateTestProbe();

        log.Lag = 40;
        service.Receive(new Get("k", Consistency.Bounded, MaxLagMs: 50), client.Ref);
        Assert.Equal(new ReadResult("v2", 2), client.ExpectMsg<ReadResult>());

        log.Lag = 400;
        service.Receive(new Get("k", Consistency.Bounded, MaxLagMs: 50), client.Ref);
        var behind = client.ExpectMsg<Behind>();
        Assert.Equal((2L, 400L), (behind.AppliedIndex, behind.LagMs!.Value));

        log.Lag = null; // no leader heard from: unknown, so never within a bound
        service.Receive(new Get("k", Consistency.Bounded, MaxLagMs: 1_000_000), client.Ref);
        Assert.Null(client.ExpectMsg<Behind>().LagMs);
    }
}

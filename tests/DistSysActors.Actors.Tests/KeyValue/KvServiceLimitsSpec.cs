using Akka.Actor;
using Akka.Event;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.StateMachine;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Actors.Tests.KeyValue;

/// <summary>
/// The key-value service gives the replicated state its limits through the log: a leader with none in its state
/// proposes its own, every replica applies the cluster's, and a node configured otherwise warns.
/// </summary>
public sealed class KvServiceLimitsSpec : TestKit
{
    /// <summary>A consensus log that only records what is proposed; the test applies it to services by hand.</summary>
    private sealed class RecordingLog : IConsensusLog
    {
        public bool IsLeader { get; set; }
        public List<byte[]> Proposed { get; } = [];
        public string? Propose(byte[] command) { Proposed.Add(command); return null; }
        public void ConfirmRead(long requestId, bool lease) { }
        public IEnumerable<KvCommand?> Commands => Proposed.Select(KvCodec.Decode);
    }

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private static KvSettings Settings(int recordsMax) =>
        KvSettings.Default with { Idempotency = IdempotencySettings.Default with { RecordsMax = recordsMax } };

    private KvService Service(IConsensusLog log, KvSettings settings) => new(log, settings, RequestTimeout, Logging.GetLogger(Sys, "kv"));

    [Fact]
    public void A_new_leader_proposes_its_limits_before_its_clock_and_stops_once_the_state_has_limits()
    {
        var log = new RecordingLog();
        var service = Service(log, Settings(recordsMax: 7));
        service.LeadershipGained(); // not the leader: nothing
        Assert.Empty(log.Proposed);

        log.IsLeader = true;
        service.LeadershipGained();
        var commands = log.Commands.ToList();
        Assert.Equal(2, commands.Count);
        Assert.Equal(new KvConfigure(1, new KvLimits(KvSettings.Default.SessionsMax, IdempotencySettings.Default.TtlMs, 7)), commands[0]);
        Assert.IsType<KvClock>(commands[1]);

        // Until a configuration is applied, each clock tick proposes it again (the first proposal may have been lost).
        var clock = service.Timers[0].Message; // the leader clock (the other timer proposes waiting writes again)
        Assert.True(service.Receive(clock, ActorRefs.Nobody));
        Assert.IsType<KvConfigure>(log.Commands.ElementAt(2));

        var index = 0L;
        foreach (var command in log.Proposed.ToList()) service.Apply(++index, command);
        Assert.Equal(new KvLimits(KvSettings.Default.SessionsMax, IdempotencySettings.Default.TtlMs, 7), service.Limits);
        log.Proposed.Clear();
        service.LeadershipGained();
        Assert.IsType<KvClock>(Assert.Single(log.Commands));
    }

    [Fact]
    public void A_node_whose_own_limits_differ_applies_the_clusters_and_warns_naming_the_setting_and_both_values()
    {
        var leaderLog = new RecordingLog { IsLeader = true };
        Service(leaderLog, Settings(recordsMax: 1)).LeadershipGained();
        var configure = leaderLog.Proposed[0];

        var follower = Service(new RecordingLog(), Settings(recordsMax: 100_000));
        EventFilter.Warning(contains: "distsys.idempotency.records-max is 100000 in this node's configuration but 1 in the cluster's").ExpectOne(() =>
            follower.Apply(1, configure));
        Assert.Equal(1, follower.Limits.IdempotencyRecordsMax);

        // A node configured like the cluster says nothing.
        var same = Service(new RecordingLog(), Settings(recordsMax: 1));
        EventFilter.Warning().Expect(0, () => same.Apply(1, configure));

        // A snapshot brings the cluster's limits too, and the same warning.
        var restored = Service(new RecordingLog(), Settings(recordsMax: 100_000));
        EventFilter.Warning(contains: "records-max").ExpectOne(() => restored.Restore(follower.Snapshot()));
        Assert.Equal(follower.Limits, restored.Limits);
    }
}

using Akka.Actor;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.StateMachine;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Actors.Tests.KeyValue;

/// <summary>Read ids the key-value service hands its consensus log: unique across incarnations of a node.</summary>
public sealed class KvServiceReadIdSpec
{
    private sealed class RecordingLog : IConsensusLog
    {
        public List<long> Reads { get; } = [];
        public bool IsLeader => false;
        public string? Propose(byte[] command) => null;
        public void ConfirmRead(long requestId, bool lease) => Reads.Add(requestId);
    }

    /// <summary>The reads of one incarnation of the service (a restarted node builds a new one).</summary>
    private static List<long> ReadsOfOneIncarnation(int count)
    {
        var log = new RecordingLog();
        var service = new KvService(log, KvSettings.Default, TimeSpan.FromSeconds(5));
        for (var i = 0; i < count; i++) Assert.True(service.Receive(new Get("k", Consistency.Linearizable), ActorRefs.Nobody));
        return log.Reads;
    }

    [Fact]
    public void A_new_incarnation_does_not_reuse_the_read_ids_of_an_earlier_one()
    {
        // A leader's late answer to an earlier incarnation's read must not match a read of this one.
        var first = ReadsOfOneIncarnation(3);
        var second = ReadsOfOneIncarnation(3);
        Assert.Equal(3, first.Distinct().Count());
        Assert.Empty(first.Intersect(second));
    }
}

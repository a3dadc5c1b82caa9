using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Network;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Tests.Network;

/// <summary>The network component samples what it sends for the dashboard's timeline, with what the faults did to each message.</summary>
public sealed class NetworkSamplesSpec : TestKit
{
    private static readonly NodeId N1 = new(1), N2 = new(2);

    [Fact]
    public void Sent_messages_are_sampled_with_their_kind_and_a_partitioned_one_is_marked_so()
    {
        var settings = NetworkSettings.Create(LoopbackRemoting.Config()) with { Seed = 7 };
        var net = Sys.ActorOf(NetworkActor.Props(N1, settings, ImmutableSortedDictionary<NodeId, Address>.Empty), NetworkActor.Name);
        net.Tell(new Send(N2, "test", "hello"));
        net.Tell(new SetFaults(FaultSpec.Partition([1], [2])), TestActor);
        ExpectMsg<FaultsApplied>();
        net.Tell(new Send(N2, "test", "lost"));

        net.Tell(new GetRecentMessages(0));
        var recent = ExpectMsg<RecentMessages>();
        Assert.Equal([MessageOutcome.Sent, MessageOutcome.Partitioned], recent.Samples.Select(s => s.Outcome));
        Assert.All(recent.Samples, s => Assert.Equal((N1, N2, "test", "String"), (s.From, s.To, s.Service, s.Kind)));
        Assert.True(recent.NowMs >= recent.Samples[^1].AtMs);

        net.Tell(new GetRecentMessages(recent.Samples[^1].Seq));
        Assert.Empty(ExpectMsg<RecentMessages>().Samples);
    }
}

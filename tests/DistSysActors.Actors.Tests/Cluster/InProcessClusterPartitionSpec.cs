using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Network;
using Xunit.Abstractions;

namespace DistSysActors.Actors.Tests.Cluster;

/// <summary>
/// Three actor systems in one process, clustered over real remoting with the throttler adapter: a
/// partition installed through the network components must be seen by Akka.Cluster itself.
/// </summary>
public sealed class InProcessClusterPartitionSpec : TestKit
{
    private static readonly Config ClusterConfig = ConfigurationFactory.ParseString("""
        akka.remote.dot-netty.tcp.port = 0
        # Long enough that the split brain resolver does not down node 3 while the test watches it.
        akka.cluster.split-brain-resolver.stable-after = 60s
        """).WithFallback(DistSysConfig.TestOverlay).WithFallback(DistSysConfig.NodeOverlay).WithFallback(DistSysConfig.Reference);

    private readonly List<ActorSystem> _systems = new();

    public InProcessClusterPartitionSpec(ITestOutputHelper output) : base(ClusterConfig, "distsys", output)
    {
        _systems.Add(Sys);
        _systems.Add(ActorSystem.Create("distsys", ClusterConfig));
        _systems.Add(ActorSystem.Create("distsys", ClusterConfig));
    }

    protected override void AfterAll()
    {
        Task.WaitAll(_systems.Skip(1).Select(s => s.Terminate()).ToArray(), TimeSpan.FromSeconds(15));
        base.AfterAll();
    }

    private static Address AddressOf(ActorSystem s) => Akka.Cluster.Cluster.Get(s).SelfAddress;

    private bool SeesUnreachable(int observer, int target)
    {
        var state = Akka.Cluster.Cluster.Get(_systems[observer - 1]).State;
        return state.Unreachable.Any(m => m.Address == AddressOf(_systems[target - 1]));
    }

    [Fact]
    public void A_partition_makes_the_minority_unreachable_to_akka_cluster_and_heal_restores_it()
    {
        var first = AddressOf(_systems[0]);
        foreach (var s in _systems) Akka.Cluster.Cluster.Get(s).Join(first);
        AwaitAssert(() =>
        {
            foreach (var s in _systems)
                Assert.Equal(3, Akka.Cluster.Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up));
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(250));

        var peers = Enumerable.Range(1, 3).ToImmutableSortedDictionary(i => new NodeId(i), i => AddressOf(_systems[i - 1]));
        var networks = Enumerable.Range(1, 3)
            .Select(i => _systems[i - 1].ActorOf(NetworkActor.Props(new NodeId(i), NetworkSettings.Create(ClusterConfig), peers), NetworkActor.Name))
            .ToList();

        void ApplyEverywhere(FaultSpec spec)
        {
            foreach (var n in networks)
            {
                n.Tell(new NetworkProtocol.SetFaults(spec), TestActor);
                ExpectMsg<NetworkProtocol.FaultsApplied>();
            }
        }

        ApplyEverywhere(FaultSpec.Partition([1, 2], [3]));
        AwaitCondition(() => SeesUnreachable(1, 3) && SeesUnreachable(2, 3) && SeesUnreachable(3, 1) && SeesUnreachable(3, 2),
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250));
        Assert.False(SeesUnreachable(1, 2), "nodes on the same side must stay reachable");

        ApplyEverywhere(FaultSpec.None);
        AwaitCondition(() => !SeesUnreachable(1, 3) && !SeesUnreachable(2, 3) && !SeesUnreachable(3, 1),
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250));
        Assert.All(_systems, s => Assert.Equal(3, Akka.Cluster.Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up)));
    }
}

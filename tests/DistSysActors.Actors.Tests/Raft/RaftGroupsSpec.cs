using Akka.Actor;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;
using DistSysActors.Core.KeyValue;
using DistSysActors.Core.Raft;
using Xunit.Abstractions;
using static DistSysActors.Actors.KeyValue.KvProtocol;
using static DistSysActors.Actors.Raft.RaftProtocol;
using static DistSysActors.Actors.Tests.Raft.RaftActorCluster;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>Several Raft groups on the same nodes: each elects, commits and stores on its own, told apart by the network service name.</summary>
[Collection(RaftActorCollection.Name)]
public sealed class RaftGroupsSpec(ITestOutputHelper output) : TestKit(RaftActorCluster.Config, "raft-groups-spec", output)
{
    private readonly RaftSettings _settings = RaftSettings.Create(RaftActorCluster.Config);

    [Fact]
    public void Group_names_map_to_persistence_ids_and_services_and_the_default_keeps_the_old_names()
    {
        Assert.Equal("raft-node-3", PersistenceIdOf(DefaultGroup, new NodeId(3)));
        Assert.Equal("raft", ServiceOf(DefaultGroup));
        Assert.Equal("raft-orders-node-3", PersistenceIdOf("orders", new NodeId(3)));
        Assert.Equal("raft/orders", ServiceOf("orders"));
        Assert.True(IsValidGroup("orders-2"));
        Assert.All(["", "Orders", "-x", "a/b", "a b", new string('a', GroupNameLengthMax + 1)], g => Assert.False(IsValidGroup(g)));
    }

    [Fact]
    public void Two_groups_on_three_nodes_elect_and_commit_independently_and_do_not_see_each_others_writes()
    {
        NodeId[] voters = [new(61), new(62), new(63)];
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var main = voters.ToDictionary(v => v, v => Start(this, network, v, voters, _settings, $"raft-main-{v}"));
        var orders = voters.ToDictionary(v => v, v => Start(this, network, v, voters, _settings, $"raft-orders-{v}", group: "orders"));
        var mainLeader = AwaitLeader(this, main);
        var ordersLeader = AwaitLeader(this, orders);
        Assert.All(main.Values, n => Assert.Equal(DefaultGroup, StatusOf(n).Group));
        Assert.All(orders.Values, n => Assert.Equal("orders", StatusOf(n).Group));

        main[mainLeader].Tell(new Put("k", "main"));
        Assert.Equal(KvStatus.Ok, ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);
        for (var i = 0; i < 3; i++)
        {
            orders[ordersLeader].Tell(new Put($"order-{i}", "placed"));
            Assert.Equal(KvStatus.Ok, ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);
        }

        // Each group's log holds only its own writes: the key written in one is absent in the other, on every node.
        foreach (var v in voters)
        {
            orders[v].Tell(new Get("k", Consistency.Linearizable));
            Assert.Null(ExpectMsg<ReadResult>(TimeSpan.FromSeconds(5)).Value);
            main[v].Tell(new Get("order-0", Consistency.Linearizable));
            Assert.Null(ExpectMsg<ReadResult>(TimeSpan.FromSeconds(5)).Value);
            main[v].Tell(new Get("k", Consistency.Linearizable));
            Assert.Equal("main", ExpectMsg<ReadResult>(TimeSpan.FromSeconds(5)).Value);
        }
        Assert.NotEqual(StatusOf(main[mainLeader]).Raft.CommitIndex, StatusOf(orders[ordersLeader]).Raft.CommitIndex);

        // Losing the orders group's leader replica costs that group an election and leaves the other group's leader and term alone.
        var mainTerm = StatusOf(main[mainLeader]).Raft.Term;
        Stop(this, orders[ordersLeader]);
        var survivors = orders.Where(n => n.Key != ordersLeader).ToDictionary(n => n.Key, n => n.Value);
        var newOrdersLeader = AwaitLeader(this, survivors);
        Assert.NotEqual(ordersLeader, newOrdersLeader);
        survivors[newOrdersLeader].Tell(new Put("order-3", "placed"));
        Assert.Equal(KvStatus.Ok, ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);
        main[mainLeader].Tell(new Put("k", "main-2"));
        Assert.Equal(KvStatus.Ok, ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);
        var after = StatusOf(main[mainLeader]).Raft;
        Assert.Equal((RaftRole.Leader, mainTerm), (after.Role, after.Term));
    }
}

using Akka.Actor;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;
using Xunit.Abstractions;
using static DistSysActors.Actors.KeyValue.KvProtocol;
using static DistSysActors.Actors.Raft.RaftProtocol;
using static DistSysActors.Actors.Tests.Raft.RaftActorCluster;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>The admin messages: members, add (as learner, promoted), remove, leadership transfer, and their refusals.</summary>
[Collection(RaftActorCollection.Name)]
public sealed class RaftAdminSpec(ITestOutputHelper output) : TestKit(RaftActorCluster.Config, "raft-admin-spec", output)
{
    private static readonly TimeSpan ChangeTimeout = TimeSpan.FromSeconds(10);
    private readonly RaftSettings _settings = RaftSettings.Create(RaftActorCluster.Config);

    private static IReadOnlyList<int> Voters(Members m) => m.Servers.Where(s => s.Voter).Select(s => s.NodeId).ToList();

    [Fact]
    public void A_follower_passes_requests_on_to_the_leader_and_invalid_changes_are_rejected()
    {
        NodeId[] voters = [new(31), new(32), new(33)];
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var nodes = voters.ToDictionary(v => v, v => Start(this, network, v, voters, _settings, $"raft-{v}"));
        var leader = AwaitLeader(this, nodes);
        var follower = nodes.First(n => n.Key != leader).Value;

        // A follower's replica passes the request on to the leader's: the answer is the leader's progress view.
        follower.Tell(GetMembers.Instance);
        var members = ExpectMsg<Members>();
        Assert.Equal([31, 32, 33], Voters(members));
        Assert.Equal(leader.Value, members.LeaderId);
        Assert.All(members.Servers, s => Assert.True(s.Lag >= 0 && s.MatchIndex > 0, $"no progress view of {s.NodeId}"));

        nodes[leader].Tell(GetMembers.Instance);
        Assert.All(ExpectMsg<Members>().Servers, s => Assert.True(s.Lag >= 0 && s.MatchIndex > 0, $"no progress view of {s.NodeId}"));

        // Changes sent to a follower are judged by the leader.
        follower.Tell(new AddMember(32));
        Assert.Contains("already", ExpectMsg<RaftProtocol.Rejected>().Reason);
        follower.Tell(new TransferLeadership(99));
        Assert.Contains("not a voter", ExpectMsg<RaftProtocol.Rejected>().Reason);

        nodes[leader].Tell(new AddMember(32));
        Assert.Contains("already", ExpectMsg<RaftProtocol.Rejected>().Reason);
        nodes[leader].Tell(new AddMember(0));
        Assert.Contains("range", ExpectMsg<RaftProtocol.Rejected>().Reason);
        nodes[leader].Tell(new RemoveMember(99));
        Assert.Contains("not a member", ExpectMsg<RaftProtocol.Rejected>().Reason);
        nodes[leader].Tell(new TransferLeadership(99));
        Assert.Contains("not a voter", ExpectMsg<RaftProtocol.Rejected>().Reason);
        nodes[leader].Tell(new TransferLeadership(leader.Value));
        Assert.Contains("already the leader", ExpectMsg<RaftProtocol.Rejected>().Reason);
    }

    [Fact]
    public void A_joining_node_is_added_and_promoted_leadership_moves_and_the_old_leader_is_removed()
    {
        NodeId[] voters = [new(51), new(52), new(53)];
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var nodes = voters.ToDictionary(v => v, v => Start(this, network, v, voters, _settings, $"raft-{v}"));
        var leader = AwaitLeader(this, nodes);
        nodes[leader].Tell(new Put("before-join", "1"));
        Assert.Equal(KvStatus.Ok, ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);

        // Started with no voters, it waits to be added: no elections, no leader of its own.
        var joining = new NodeId(54);
        nodes[joining] = Start(this, network, joining, [], _settings, "raft-54");
        var idle = StatusOf(nodes[joining]);
        Assert.Equal(RaftRole.Follower, idle.Raft.Role);

        nodes[leader].Tell(new AddMember(joining.Value));
        var added = ExpectMsg<Members>(ChangeTimeout);
        Assert.Equal([51, 52, 53, 54], Voters(added));
        AwaitAssert(() =>
        {
            nodes[joining].Tell(new Get("before-join", Consistency.Stale));
            Assert.Equal("1", ExpectMsg<ReadResult>().Value);
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100));

        nodes[leader].Tell(new TransferLeadership(null));
        var done = ExpectMsg<TransferDone>(ChangeTimeout);
        Assert.NotEqual(leader.Value, done.LeaderId);
        var newLeader = new NodeId(done.LeaderId);

        nodes[newLeader].Tell(new RemoveMember(leader.Value));
        var removed = ExpectMsg<Members>(ChangeTimeout);
        Assert.DoesNotContain(removed.Servers, s => s.NodeId == leader.Value);
        Assert.Equal(3, Voters(removed).Count);

        nodes[newLeader].Tell(new Put("after-remove", "2"));
        Assert.Equal(KvStatus.Ok, ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);
    }
}

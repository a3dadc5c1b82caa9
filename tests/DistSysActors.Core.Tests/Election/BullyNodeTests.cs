using DistSysActors.Core.Election;
using DistSysActors.Core.Protocol;
using static DistSysActors.Core.Election.BullyProtocol;

namespace DistSysActors.Core.Tests.Election;

/// <summary>The rules of Garcia-Molina's Bully algorithm (1982), one test each.</summary>
public sealed class BullyNodeTests
{
    private static readonly NodeId N1 = new(1), N2 = new(2), N3 = new(3);
    private static readonly NodeId[] All = [N1, N2, N3];
    private static readonly BullyConfig Config = new(AnswerTimeoutMs: 100, CoordinatorTimeoutMs: 200, HeartbeatIntervalMs: 50, LeaderTimeoutMs: 300);

    private static List<Outgoing<BullyMessage>> Sent(BullyNode node)
    {
        var ready = node.TakeReady();
        node.Advance(ready);
        return [.. ready.MessagesAfterPersist];
    }

    [Fact]
    public void An_election_sends_Election_only_to_higher_ids()
    {
        var node = new BullyNode(N1, All, Config);
        node.Tick(0);
        Assert.Equal(BullyState.Electing, node.State);
        Assert.Equal([(N2, (BullyMessage)new BullyProtocol.Election(N1)), (N3, new BullyProtocol.Election(N1))], Sent(node).Select(o => (o.To, o.Message)));
    }

    [Fact]
    public void The_highest_id_declares_itself_coordinator_at_once_to_everyone()
    {
        var node = new BullyNode(N3, All, Config);
        node.Tick(0);
        Assert.Equal((BullyState.Leader, (NodeId?)N3), (node.State, node.LeaderId));
        Assert.Equal([N1, N2], Sent(node).Where(o => o.Message is Coordinator).Select(o => o.To));
    }

    [Fact]
    public void No_answer_within_the_timeout_makes_the_node_coordinator()
    {
        var node = new BullyNode(N1, All, Config);
        node.Tick(0);
        Sent(node);
        node.Tick(99);
        Assert.Equal(BullyState.Electing, node.State);
        node.Tick(100);
        Assert.Equal((BullyState.Leader, (NodeId?)N1), (node.State, node.LeaderId));
        Assert.Equal([N2, N3], Sent(node).Select(o => o.To));
    }

    [Fact]
    public void An_answer_from_a_higher_id_makes_the_node_wait_for_the_coordinator_and_restart_if_none_comes()
    {
        var node = new BullyNode(N1, All, Config);
        node.Tick(0);
        node.Step(new Answer(N2), 10);
        node.Tick(150); // past the answer timeout: it does not declare itself
        Assert.Equal(BullyState.AwaitingCoordinator, node.State);
        node.Tick(210);
        Assert.Equal(BullyState.Electing, node.State);
        Assert.Equal(2, node.ElectionsStarted);
    }

    [Fact]
    public void A_lower_ids_Election_is_answered_and_starts_an_election_of_its_own()
    {
        var node = new BullyNode(N2, All, Config);
        node.Step(new BullyProtocol.Election(N1), 0);
        var sent = Sent(node);
        Assert.Contains(sent, o => o.To == N1 && o.Message is Answer);
        Assert.Contains(sent, o => o.To == N3 && o.Message is BullyProtocol.Election);
        Assert.Equal(BullyState.Electing, node.State);
    }

    [Fact]
    public void A_coordinator_from_a_higher_id_is_followed_and_its_silence_starts_an_election()
    {
        var node = new BullyNode(N1, All, Config);
        node.Step(new Coordinator(N3), 0);
        Assert.Equal((BullyState.Follower, (NodeId?)N3), (node.State, node.LeaderId));
        node.Tick(299);
        Assert.Equal(BullyState.Follower, node.State);
        node.Tick(300);
        Assert.Equal((BullyState.Electing, (NodeId?)null), (node.State, node.LeaderId));
    }

    [Fact]
    public void A_recovering_higher_id_bullies_a_lower_coordinator()
    {
        var leader = new BullyNode(N2, All, Config);
        leader.Tick(0);
        leader.Tick(100); // N3 is down: N2 leads
        Assert.Equal(BullyState.Leader, leader.State);
        Sent(leader);
        leader.Step(new Coordinator(N3), 200); // N3 came back and announced itself
        Assert.Equal((BullyState.Follower, (NodeId?)N3), (leader.State, leader.LeaderId));

        // And a lower coordinator heard by a live higher id is challenged.
        var high = new BullyNode(N3, All, Config);
        high.Tick(0);
        Sent(high);
        high.Step(new Coordinator(N1), 10);
        Assert.Contains(Sent(high), o => o.To == N1 && o.Message is Coordinator { From.Value: 3 });
        Assert.Equal(BullyState.Leader, high.State);
    }

    [Fact]
    public void The_coordinator_repeats_its_announcement_as_a_heartbeat()
    {
        var node = new BullyNode(N3, All, Config);
        node.Tick(0);
        Sent(node);
        node.Tick(49);
        Assert.Empty(Sent(node));
        node.Tick(50);
        Assert.Equal(2, Sent(node).Count(o => o.Message is Coordinator));
        Assert.Empty(node.CheckInvariants());
    }

    [Fact]
    public void Messages_from_itself_or_strangers_are_ignored()
    {
        var node = new BullyNode(N1, All, Config);
        node.Step(new Coordinator(new NodeId(9)), 0);
        node.Step(new Coordinator(N1), 0);
        Assert.Equal(BullyState.Starting, node.State);
    }
}

using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using Xunit.Abstractions;
using static DistSysActors.Actors.KeyValue.KvProtocol;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>The Raft actor's wiring: network seam, journal, recovery, client answers. The protocol itself is tested in Core and Simulation.</summary>
[Collection(RaftActorCollection.Name)]
public sealed class RaftActorSpec(ITestOutputHelper output) : TestKit(Config, "raft-spec", output)
{
    private static readonly Config Config = RaftActorCluster.Config;

    private static readonly NodeId[] Voters = [new(1), new(2), new(3)];
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private readonly RaftSettings _settings = RaftSettings.Create(Config);
    private int _generation;

    private (IActorRef Network, Dictionary<NodeId, IActorRef> Nodes) StartCluster(IActorRef? network = null)
    {
        network ??= Sys.ActorOf(LocalRaftNetwork.Props());
        var generation = ++_generation;
        var nodes = Voters.ToDictionary(v => v, v => Sys.ActorOf(RaftActor.Props(v, Voters, _settings, network, RequestTimeout), $"raft-{v}-{generation}"));
        foreach (var (id, actor) in nodes) network.Tell(new LocalRaftNetwork.Attach(id, actor));
        return (network, nodes);
    }

    private NodeStatus StatusOf(IActorRef node) => node.Ask<NodeStatus>(RaftProtocol.GetStatus.Instance, RemainingOrDefault).Result;

    private NodeId AwaitLeader(Dictionary<NodeId, IActorRef> nodes) => RaftActorCluster.AwaitLeader(this, nodes);

    [Fact]
    public void Writes_through_a_follower_commit_and_reads_of_every_consistency_see_them()
    {
        var (_, nodes) = StartCluster();
        var leader = AwaitLeader(nodes);
        var followers = nodes.Keys.Where(n => n != leader).ToList();

        nodes[followers[0]].Tell(new Put("k", "v1"));
        var written = ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5));
        Assert.Equal(Core.KeyValue.KvStatus.Ok, written.Status);

        nodes[followers[1]].Tell(new Get("k", Consistency.Linearizable));
        Assert.Equal("v1", ExpectMsg<ReadResult>().Value);
        nodes[leader].Tell(new Get("k", Consistency.Lease));
        Assert.Equal("v1", ExpectMsg<ReadResult>().Value);

        nodes[followers[1]].Tell(new Cas("k", "wrong", "v2"));
        var mismatch = ExpectMsg<WriteResult>();
        Assert.Equal((Core.KeyValue.KvStatus.CasMismatch, "v1"), (mismatch.Status, mismatch.Current));
        nodes[leader].Tell(new Cas("k", "v1", "v2"));
        Assert.Equal(Core.KeyValue.KvStatus.Ok, ExpectMsg<WriteResult>().Status);
        AwaitAssert(() =>
        {
            foreach (var n in nodes.Values)
            {
                n.Tell(new Get("k", Consistency.Stale));
                Assert.Equal("v2", ExpectMsg<ReadResult>().Value);
            }
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Bad_input_is_rejected_without_touching_the_log()
    {
        var (_, nodes) = StartCluster();
        var leader = AwaitLeader(nodes);
        var before = StatusOf(nodes[leader]).Raft.LastLogIndex;
        nodes[leader].Tell(new Put("k", new string('x', _settings.Kv.ValueBytesMax + 1)));
        Assert.True(ExpectMsg<KvProtocol.Rejected>().TooLarge);
        nodes[leader].Tell(new Put("", "v"));
        Assert.False(ExpectMsg<KvProtocol.Rejected>().TooLarge);
        Assert.Equal(before, StatusOf(nodes[leader]).Raft.LastLogIndex);
    }

    [Fact]
    public void A_node_without_a_leader_answers_not_applied_at_once()
    {
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var lonely = Sys.ActorOf(RaftActor.Props(new NodeId(1), Voters, _settings, network, RequestTimeout), "raft-lonely");
        lonely.Tell(new Put("k", "v"));
        var answer = ExpectMsg<KvProtocol.Unavailable>();
        Assert.False(answer.Unknown);
        Assert.Contains("leader", answer.Reason);
    }

    [Fact]
    public void Restarted_nodes_recover_term_log_and_state_machine_from_the_journal()
    {
        var (network, nodes) = StartCluster();
        var leader = AwaitLeader(nodes);
        for (var i = 0; i < 5; i++)
        {
            nodes[leader].Tell(new Put($"k{i}", $"v{i}"));
            ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5));
        }
        var before = nodes.ToDictionary(n => n.Key, n => StatusOf(n.Value).Raft);
        foreach (var n in nodes.Values)
        {
            Watch(n);
            Sys.Stop(n);
            ExpectTerminated(n);
        }

        var (_, restarted) = StartCluster(network);
        foreach (var (id, node) in restarted)
        {
            var recovered = StatusOf(node).Raft;
            Assert.True(recovered.Term >= before[id].Term, $"node {id} lost its term");
            Assert.True(recovered.LastLogIndex >= before[id].LastLogIndex, $"node {id} lost log entries");
        }
        AwaitAssert(() =>
        {
            foreach (var node in restarted.Values)
            {
                node.Tell(new Get("k4", Consistency.Stale));
                Assert.Equal("v4", ExpectMsg<ReadResult>().Value);
            }
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_vote_is_sent_only_after_it_is_durable()
    {
        var network = CreateTestProbe();
        var quiet = _settings with { TickMs = 10_000 }; // no elections of its own during the test
        var node = Sys.ActorOf(RaftActor.Props(new NodeId(2), Voters, quiet, network.Ref, RequestTimeout), "raft-voter");
        network.ExpectMsg<NetworkProtocol.Register>();
        StatusOf(node); // recovered and running

        GatedMemoryJournal.Close();
        try
        {
            node.Tell(new RequestVote(new NodeId(1), new NodeId(2), Term: 5, LastLogIndex: 0, LastLogTerm: 0, PreVote: false));
            network.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        }
        finally
        {
            GatedMemoryJournal.Release();
        }
        var send = network.ExpectMsg<NetworkProtocol.Send>(TimeSpan.FromSeconds(5));
        var response = Assert.IsType<RequestVoteResponse>(send.Payload);
        Assert.True(response.Granted);
        Assert.Equal(new NodeId(1), send.To);
        Assert.Equal(5, StatusOf(node).Raft.Term);
    }

    [Fact]
    public void Fifty_concurrent_requests_with_one_idempotency_key_take_effect_once_and_get_the_same_answer()
    {
        var (_, nodes) = StartCluster();
        AwaitLeader(nodes);
        var key = new Core.KeyValue.KvIdempotency("retry-1", "fingerprint-1");
        var probes = Enumerable.Range(0, 50).Select(_ => CreateTestProbe()).ToList();
        var targets = nodes.Values.ToArray();
        for (var i = 0; i < probes.Count; i++)
            targets[i % targets.Length].Tell(new Cas("k", null, "once") { Idempotency = key }, probes[i].Ref);

        // Executed twice, a cas from "absent" would fail the second time; every answer is the first one's.
        var answers = probes.Select(p => p.ExpectMsg<WriteResult>(TimeSpan.FromSeconds(10))).ToList();
        Assert.All(answers, a => Assert.Equal(Core.KeyValue.KvStatus.Ok, a.Status));
        Assert.Single(answers.Select(a => a.Index).Distinct());
        Assert.Single(answers, a => !a.Replayed);

        targets[0].Tell(new Cas("k", null, "other") { Idempotency = key with { Fingerprint = "fingerprint-2" } });
        ExpectMsg<IdempotencyConflict>(TimeSpan.FromSeconds(5));
        targets[1].Tell(new Get("k", Consistency.Linearizable));
        Assert.Equal("once", ExpectMsg<ReadResult>().Value);
    }
}

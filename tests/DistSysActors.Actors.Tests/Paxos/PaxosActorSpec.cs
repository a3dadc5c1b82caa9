using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.Paxos;
using DistSysActors.Actors.Tests.Raft;
using DistSysActors.Core;
using DistSysActors.Core.KeyValue;
using DistSysActors.Core.Paxos;
using Xunit.Abstractions;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Actors.Tests.Paxos;

/// <summary>
/// The Paxos actors' wiring on a local network: the Multi-Paxos replica serving the key-value service, and the three
/// register role actors per node. The protocols themselves are tested in Core and Simulation.
/// </summary>
[Collection(RaftActorCollection.Name)]
public sealed class PaxosActorSpec(ITestOutputHelper output) : TestKit(Config, "paxos-spec", output)
{
    private static readonly Config Config = ConfigurationFactory.ParseString("distsys.paxos { tick-ms = 10 }").WithFallback(RaftActorCluster.Config);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private readonly PaxosSettings _settings = PaxosSettings.Create(Config);

    private Dictionary<NodeId, IActorRef> StartReplicas(int first)
    {
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        NodeId[] ids = [new(first), new(first + 1), new(first + 2)];
        var nodes = ids.ToDictionary(id => id, id => Sys.ActorOf(MultiPaxosActor.Props(id, ids, _settings, KvSettings.Default, network, RequestTimeout), $"paxos-{id}"));
        foreach (var (id, actor) in nodes) network.Tell(new LocalRaftNetwork.Attach(id, actor, MultiPaxos.Service));
        return nodes;
    }

    private MultiPaxos.Status StatusOf(IActorRef node) => node.Ask<PaxosProtocol.ReplicaStatus>(PaxosProtocol.GetStatus.Instance, RemainingOrDefault).Result.Paxos;

    private NodeId AwaitLeader(Dictionary<NodeId, IActorRef> nodes)
    {
        NodeId? leader = null;
        AwaitAssert(() =>
        {
            var statuses = nodes.Values.Select(StatusOf).ToList();
            var leaders = statuses.Where(s => s.Role == MultiPaxos.Role.Leader).ToList();
            Assert.Single(leaders);
            Assert.All(statuses, s => Assert.Equal(leaders[0].LeaderId, s.LeaderId));
            leader = leaders[0].LeaderId;
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        return leader!.Value;
    }

    [Fact]
    public void The_key_value_service_on_Multi_Paxos_writes_through_a_follower_and_reads_linearizably_anywhere()
    {
        var nodes = StartReplicas(11);
        var leader = AwaitLeader(nodes);
        var followers = nodes.Keys.Where(n => n != leader).ToList();

        nodes[followers[0]].Tell(new Put("k", "v1"));
        Assert.Equal(KvStatus.Ok, ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);
        nodes[followers[1]].Tell(new Get("k", Consistency.Linearizable));
        Assert.Equal("v1", ExpectMsg<ReadResult>(TimeSpan.FromSeconds(5)).Value);
        nodes[leader].Tell(new Get("k", Consistency.Lease));
        Assert.Equal("v1", ExpectMsg<ReadResult>(TimeSpan.FromSeconds(5)).Value);
        nodes[leader].Tell(new Cas("k", "wrong", "v2"));
        var mismatch = ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5));
        Assert.Equal((KvStatus.CasMismatch, "v1"), (mismatch.Status, mismatch.Current));

        var status = StatusOf(nodes[leader]);
        Assert.True(status.LastDecidedSlot >= 2, $"{status}");
        Assert.Equal(status.LastDecidedSlot + 1, status.FirstUnchosenSlot);
    }

    [Fact]
    public void Register_roles_each_in_its_own_actor_choose_one_value_and_every_learner_learns_it()
    {
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        NodeId[] ids = [new(21), new(22), new(23)];
        var roles = new Dictionary<(NodeId, RegisterPaxos.Role), IActorRef>();
        foreach (var id in ids)
        foreach (var role in Enum.GetValues<RegisterPaxos.Role>())
        {
            var actor = Sys.ActorOf(RegisterRoleActor.Props(role, id, ids, _settings, network), $"register-{RegisterRoleActor.RoleName(role)}-{id}");
            roles[(id, role)] = actor;
            network.Tell(new LocalRaftNetwork.Attach(id, actor, RegisterRoleActor.ServiceOf(role)));
        }

        // A duel: two proposers at once, one value chosen, both told it.
        roles[(ids[0], RegisterPaxos.Role.Proposer)].Tell(new PaxosProtocol.ProposeRegister("r", "from-21"));
        roles[(ids[1], RegisterPaxos.Role.Proposer)].Tell(new PaxosProtocol.ProposeRegister("r", "from-22"));
        var first = ExpectMsg<RegisterPaxos.Outcome>(TimeSpan.FromSeconds(10));
        var second = ExpectMsg<RegisterPaxos.Outcome>(TimeSpan.FromSeconds(10));
        Assert.Equal(first.Value, second.Value);
        Assert.Contains(first.Value, new[] { "from-21", "from-22" });

        AwaitAssert(() =>
        {
            foreach (var id in ids)
            {
                var known = roles[(id, RegisterPaxos.Role.Learner)].Ask<PaxosProtocol.RegisterKnown>(new PaxosProtocol.GetRegister("r"), RemainingOrDefault).Result;
                Assert.Equal(first.Value, known.Chosen?.Value);
            }
        }, TimeSpan.FromSeconds(5));

        roles[(ids[2], RegisterPaxos.Role.Proposer)].Tell(new PaxosProtocol.ProposeRegister("", "x"));
        Assert.Contains("empty", ExpectMsg<PaxosProtocol.RegisterRefused>().Reason, StringComparison.Ordinal);
    }
}

using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>The Raft actor specs share static journal state (the gate, truncation records), so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RaftActorCollection
{
    public const string Name = "raft-actors";
}

/// <summary>Starting in-process Raft actors on a <see cref="LocalRaftNetwork"/> and waiting for them.</summary>
public static class RaftActorCluster
{
    public static readonly Config Config = ConfigurationFactory.ParseString("""
        akka.persistence.journal.plugin = "akka.persistence.journal.gated"
        akka.persistence.journal.gated {
          class = "DistSysActors.Actors.Tests.Raft.GatedMemoryJournal, DistSysActors.Actors.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.gated"
        akka.persistence.snapshot-store.gated {
          class = "DistSysActors.Actors.Tests.Raft.GatedMemorySnapshotStore, DistSysActors.Actors.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        distsys.raft { tick-ms = 20, election-ticks = 10 }
        # Off here: with it on, this actor's journal writes do not complete under the test journal.
        # Raft wire messages and journal events are round-tripped by RaftWireFormatSpec instead.
        akka.actor.serialize-messages = off
        """).WithFallback(DistSysConfig.TestOverlay).WithFallback(DistSysConfig.Reference);

    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    public static IActorRef Start(TestKit kit, IActorRef network, NodeId id, IReadOnlyCollection<NodeId> voters, RaftSettings settings, string name,
        string group = DefaultGroup)
    {
        var actor = kit.Sys.ActorOf(RaftActor.Props(id, group, voters, settings, network, RequestTimeout), name);
        network.Tell(new LocalRaftNetwork.Attach(id, actor, ServiceOf(group)));
        return actor;
    }

    public static NodeStatus StatusOf(IActorRef node) => node.Ask<NodeStatus>(RaftProtocol.GetStatus.Instance, TimeSpan.FromSeconds(5)).Result;

    /// <summary>Waits until exactly one of nodes leads and all of them know it.</summary>
    public static NodeId AwaitLeader(TestKit kit, IReadOnlyDictionary<NodeId, IActorRef> nodes)
    {
        NodeId? leader = null;
        kit.AwaitAssert(() =>
        {
            var statuses = nodes.Values.Select(StatusOf).ToList();
            var leaders = statuses.Where(s => s.Raft.Role == RaftRole.Leader).ToList();
            Assert.Single(leaders);
            Assert.All(statuses, s => Assert.Equal(leaders[0].Raft.Id, s.Raft.LeaderId));
            leader = leaders[0].Raft.Id;
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        return leader!.Value;
    }

    public static void Stop(TestKit kit, IActorRef node)
    {
        kit.Watch(node);
        kit.Sys.Stop(node);
        kit.ExpectTerminated(node);
    }
}

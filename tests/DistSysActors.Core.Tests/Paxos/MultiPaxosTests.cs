using System.Collections.Immutable;
using System.Text;
using DistSysActors.Core.Paxos;
using static DistSysActors.Core.Paxos.MultiPaxos;

namespace DistSysActors.Core.Tests.Paxos;

/// <summary>Multi-Paxos ("Paxos Made Simple", section 3): a stable leader, phase 2 per command, holes, catch-up, compaction, reads.</summary>
public sealed class MultiPaxosTests
{
    private static readonly ImmutableArray<NodeId> Ids = [new(1), new(2), new(3)];
    private static NodeId N(int id) => new(id);
    private static byte[] C(string text) => Encoding.UTF8.GetBytes(text);

    private static PaxosTestNet<MultiPaxosNode, Message> Net(Func<MultiPaxosConfig, MultiPaxosConfig>? configure = null) =>
        new(Ids, (id, journal) =>
        {
            var config = new MultiPaxosConfig { Id = id, Nodes = Ids };
            // Built a while before the test's time 0, so no node still waits out a start-up election timeout.
            return new MultiPaxosNode(configure?.Invoke(config) ?? config, new DeterministicRandom(id.Value), null, journal, nowMs: -1_000);
        });

    private static PaxosTestNet<MultiPaxosNode, Message> Elected(Func<MultiPaxosConfig, MultiPaxosConfig>? configure = null)
    {
        var net = Net(configure);
        net[1].Campaign(0);
        net.Deliver();
        Assert.True(net[1].IsLeader);
        Assert.All(Ids, id => Assert.Equal(N(1), net[id].LeaderId));
        return net;
    }

    private static List<Committed> CommittedAt(PaxosTestNet<MultiPaxosNode, Message> net, int id) =>
        [.. net.Applies.Where(a => a.Node == N(id)).Select(a => a.Entry).OfType<Committed>()];

    private static bool Isolated(NodeId from, NodeId to, int node) => from == N(node) || to == N(node);

    [Fact]
    public void Section3_a_stable_leader_runs_phase_1_once_then_only_phase_2_per_command()
    {
        var net = Elected();
        net.Sent.Clear();
        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(ProposeStatus.Proposed, net[1].Propose(C($"c{i}"), 10).Status);
            net.Deliver(nowMs: 10);
        }
        Assert.DoesNotContain(net.Sent, s => s.Message is Prepare or Promise);
        Assert.Equal(10, net.Sent.Count(s => s.Message is Accept));   // to two peers per command
        Assert.Equal(10, net.Sent.Count(s => s.Message is Accepted)); // from two peers per command
        Assert.Equal(["c1", "c2", "c3", "c4", "c5"], CommittedAt(net, 1).Select(c => Encoding.UTF8.GetString(c.Command!)));

        // Followers learn decided slots from the DecidedThrough the leader's next message carries.
        net.Tick(100);
        net.Deliver(nowMs: 100);
        Assert.All(Ids, id => Assert.Equal(5, net[id].DecidedThrough));
        Assert.Equal(CommittedAt(net, 1).Select(c => c.Slot), CommittedAt(net, 3).Select(c => c.Slot));
    }

    [Fact]
    public void Section3_a_new_leader_learns_accepted_slots_in_phase_1_reproposes_them_and_fills_holes_with_no_ops()
    {
        var net = Elected();
        foreach (var command in new[] { "c1", "c2", "c3" })
        {
            net[1].Propose(C(command), 10);
            net.Flush();
        }
        // Slot 2's Accept is lost; the others reach node 2 only; node 1 then falls silent.
        net.Deliver((from, to, m) => m is Accept a && a.FirstSlot != 2 && to == N(2), nowMs: 10, rounds: 1);
        net.DropAll();
        Assert.NotNull(net[2].AcceptedAt(1));
        Assert.Null(net[2].AcceptedAt(2));

        net[2].Campaign(1_000);
        net.Deliver((from, to, _) => !Isolated(from, to, 1), nowMs: 1_000);
        Assert.True(net[2].IsLeader);
        var applied = CommittedAt(net, 2);
        Assert.Equal([1L, 2, 3], applied.Select(c => c.Slot));
        Assert.Equal("c1", Encoding.UTF8.GetString(applied[0].Command!));
        Assert.Null(applied[1].Command); // the hole, filled with a no-op
        Assert.Equal("c3", Encoding.UTF8.GetString(applied[2].Command!));
        Assert.Contains(net.Sent, s => s.From == N(2) && s.Message is Prepare);
    }

    [Fact]
    public void Section3_a_leader_rejected_by_a_higher_ballot_steps_down_and_drops_its_pending_reads()
    {
        var net = Elected();
        net[2].Campaign(1_000);
        net.Deliver((from, to, _) => !Isolated(from, to, 1), nowMs: 1_000);
        Assert.True(net[2].IsLeader);
        Assert.True(net[1].IsLeader); // it has heard nothing yet

        // The read's heartbeat round is refused by both peers (they promised 2.2): node 1 learns it no longer leads.
        net[1].ReadIndex(7, lease: false, 1_000);
        net.Deliver(nowMs: 1_000);
        Assert.False(net[1].IsLeader);
        Assert.Contains(net.Sent, s => s.To == N(1) && s.Message is Rejected);
        Assert.Contains(net.Answers, a => a.Node == N(1) && a.Answer is ReadDropped { RequestId: 7 });
        net.Tick(1_100);
        net.Deliver(nowMs: 1_100);
        Assert.Equal(N(2), net[1].LeaderId);
    }

    [Fact]
    public void A_read_index_waits_for_a_heartbeat_round_a_lease_read_does_not_and_a_follower_asks_the_leader()
    {
        var net = Elected();
        net[1].Propose(C("x"), 10);
        net.Deliver(nowMs: 10);

        net[1].ReadIndex(1, lease: false, 20);
        net.Flush();
        Assert.DoesNotContain(net.Answers, a => a.Answer is ReadReady);
        Assert.Contains(net.InFlight, m => m.Message is Heartbeat);
        net.Deliver(nowMs: 20);
        Assert.Equal(1, Assert.Single(net.Answers.Select(a => a.Answer).OfType<ReadReady>()).Slot);

        net.InFlight.Clear();
        net[1].ReadIndex(2, lease: true, 30);
        net.Flush();
        Assert.Contains(net.Answers, a => a.Answer is ReadReady { RequestId: 2 });
        Assert.DoesNotContain(net.InFlight, m => m.Message is Heartbeat);

        net[3].ReadIndex(3, lease: false, 40);
        net.Deliver(nowMs: 40);
        Assert.Contains(net.Answers, a => a.Node == N(3) && a.Answer is ReadReady { RequestId: 3, Slot: 1 });
    }

    [Fact]
    public void A_lagging_learner_catches_up_from_the_leaders_snapshot_when_the_slots_it_misses_are_compacted()
    {
        var net = Elected(c => c with { CompactionMarginSlots = 0 });
        for (var i = 1; i <= 10; i++)
        {
            net[1].Propose(C($"c{i}"), 10);
            net.Deliver((from, to, _) => !Isolated(from, to, 3), nowMs: 10);
        }
        net[1].Compact(10, C("state@10"));
        net.Flush();
        Assert.Contains(net.Journals[N(1)], r => r is SnapshotRecord { Snapshot.Slot: 10 });
        Assert.Empty(net[1].AcceptedSlots);
        Assert.Equal(0, net[3].DecidedThrough);

        net.Tick(200);
        net.Deliver(nowMs: 200);
        Assert.Contains(net.Applies, a => a.Node == N(3) && a.Entry is InstallSnapshot { Snapshot.Slot: 10 });
        Assert.Equal(10, net[3].DecidedThrough);
        Assert.Equal(10, net[3].CompactedThrough);
    }

    [Fact]
    public void A_promise_reports_compacted_slots_and_the_new_leader_never_proposes_into_them()
    {
        var net = Elected(c => c with { CompactionMarginSlots = 0 });
        for (var i = 1; i <= 4; i++)
        {
            net[1].Propose(C($"c{i}"), 10);
            net.Deliver(nowMs: 10);
        }
        net.Tick(100);
        net.Deliver(nowMs: 100);
        net[2].Compact(4, C("state@4"));
        net.Flush();
        net[3].Campaign(1_000);
        net.Deliver((from, to, _) => !Isolated(from, to, 1), nowMs: 1_000);
        Assert.True(net[3].IsLeader);
        Assert.Contains(net.Sent, s => s.Message is Promise { CompactedThrough: 4 });
        Assert.DoesNotContain(net.Sent, s => s.From == N(3) && s.Message is Accept a && a.FirstSlot <= 4);
        Assert.Equal(ProposeStatus.Proposed, net[3].Propose(C("c5"), 1_000).Status);
        net.Deliver((from, to, _) => !Isolated(from, to, 1), nowMs: 1_000);
        Assert.Equal(5, CommittedAt(net, 3).Last().Slot);
    }

    [Fact]
    public void An_acceptor_and_proposer_rebuilt_from_the_journal_keep_promise_acceptances_and_round()
    {
        var net = Elected();
        net[1].Propose(C("c1"), 10);
        net.Deliver(nowMs: 10);
        var before = net[2].Promised;
        var restarted = net.Restart(N(2));
        Assert.Equal(before, restarted.Promised);
        Assert.Equal("c1", Encoding.UTF8.GetString(restarted.AcceptedAt(1)!.Command!));
        Assert.Equal(0, restarted.DecidedThrough); // the learner relearns

        var leader = net.Restart(N(1));
        leader.Campaign(1_000);
        var prepare = Assert.IsType<Prepare>(leader.TakeReady().MessagesAfterPersist[0].Message);
        Assert.True(prepare.Ballot.Round > before.Round, $"{prepare.Ballot} must be above {before}");
    }

    [Fact]
    public void A_follower_forwards_proposals_to_the_leader_and_drops_them_without_one()
    {
        var lonely = Net();
        Assert.Equal(ProposeStatus.Dropped, lonely[2].Propose(C("x"), 0).Status);

        var net = Elected();
        Assert.Equal(ProposeStatus.Forwarded, net[2].Propose(C("x"), 10).Status);
        net.Deliver(nowMs: 10);
        Assert.Contains(net.Sent, s => s.From == N(2) && s.To == N(1) && s.Message is Forward);
        Assert.Equal("x", Encoding.UTF8.GetString(CommittedAt(net, 1).Single().Command!));
    }

    [Fact]
    public void Config_validation_names_each_bad_field()
    {
        var errors = new MultiPaxosConfig { Id = N(4), Nodes = Ids, ElectionTimeoutMs = 10, HeartbeatIntervalMs = 50 }.Validate();
        Assert.Contains(errors, e => e.Contains("Id 4", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("ElectionTimeoutMs", StringComparison.Ordinal));
    }
}

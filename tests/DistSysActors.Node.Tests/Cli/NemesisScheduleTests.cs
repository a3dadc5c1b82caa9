using DistSysActors.Node.Commands.Nemesis;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>The nemesis's plan: replays from its seed, keeps a live connected majority, and spaces its steps as asked.</summary>
public class NemesisScheduleTests
{
    private static IReadOnlyList<NemesisStep> Plan(long seed, int nodes = 5, NemesisFaults faults = NemesisFaults.All, long durationMs = 600_000) =>
        new NemesisSchedule(nodes, seed, 3000, 6000, faults).Plan(durationMs, atMs => (int)(atMs / 10_000 % nodes) + 1);

    [Fact]
    public void The_same_seed_gives_the_same_steps_and_another_seed_other_steps()
    {
        var first = Plan(7).Select(s => s.Describe(5) + "@" + s.AtMs).ToList();
        Assert.Equal(first, Plan(7).Select(s => s.Describe(5) + "@" + s.AtMs));
        Assert.NotEqual(first, Plan(8).Select(s => s.Describe(5) + "@" + s.AtMs));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Steps_come_every_3_to_6_seconds(long seed)
    {
        var steps = Plan(seed, durationMs: 40_000);
        Assert.InRange(steps.Count, 6, 13);
        var gaps = steps.Select((s, i) => s.AtMs - (i == 0 ? 0 : steps[i - 1].AtMs));
        Assert.All(gaps, gap => Assert.InRange(gap, 3000, 6000));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void At_most_f_nodes_are_killed_or_cut_off_at_once_and_every_kind_of_step_occurs(int nodes)
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            var schedule = new NemesisSchedule(nodes, seed, 3000, 6000, NemesisFaults.All);
            var kinds = new HashSet<NemesisStepKind>();
            while (schedule.NextAtMs < 600_000)
            {
                // Restarted nodes become ready one step later.
                foreach (var node in schedule.Recovering.ToList()) schedule.Recovered(node);
                var step = schedule.Next(leader: seed % nodes + 1);
                kinds.Add(step.Kind);
                Assert.True(schedule.Impaired.Count <= (nodes - 1) / 2, $"seed {seed}: {schedule.Impaired.Count} nodes impaired after {step.Describe(nodes)}");
                Assert.All(step.Nodes, n => Assert.InRange(n, 1, nodes));
                if (step.IsPartition) Assert.InRange(step.Nodes.Count, 1, (nodes - 1) / 2);
            }
            Assert.Equal(Enum.GetValues<NemesisStepKind>().Order(), kinds.Order());
        }
    }

    [Fact]
    public void Only_the_chosen_faults_are_injected()
    {
        Assert.DoesNotContain(Plan(3, faults: NemesisFaults.Kill), s => s.IsPartition || s.Kind == NemesisStepKind.Heal);
        Assert.DoesNotContain(Plan(3, faults: NemesisFaults.Partition), s => s.IsKill || s.Kind == NemesisStepKind.Restart);
    }

    [Fact]
    public void Killing_the_leader_kills_the_observed_leader_and_a_restart_brings_back_the_node_down_longest()
    {
        var leaderKills = 0;
        for (var seed = 1; seed <= 10; seed++)
        {
            var plan = new NemesisSchedule(5, seed, 3000, 6000, NemesisFaults.All);
            while (plan.NextAtMs < 300_000)
            {
                foreach (var node in plan.Recovering.ToList()) plan.Recovered(node);
                var leader = (int)(plan.NextAtMs / 7_000 % 5) + 1;
                // The leader can be killed unless it is down already or killing it would leave no majority.
                var killable = !plan.Killed.Contains(leader) && (plan.Impaired.Contains(leader) || plan.Impaired.Count < 2);
                var step = plan.Next(leader);
                if (step.Kind != NemesisStepKind.KillLeader || !killable) continue;
                Assert.Equal(leader, step.Nodes[0]);
                leaderKills++;
            }
        }
        Assert.True(leaderKills > 10, $"only {leaderKills} leader kills checked");
        var schedule = new NemesisSchedule(7, 5, 3000, 6000, NemesisFaults.Kill);
        var killed = new List<int>();
        while (schedule.NextAtMs < 600_000)
        {
            var step = schedule.Next(leader: null);
            if (step.IsKill) killed.Add(step.Nodes[0]);
            else
            {
                Assert.Equal(killed[0], step.Nodes[0]);
                killed.RemoveAt(0);
            }
            Assert.Equal(killed, schedule.Killed);
        }
    }

    [Fact]
    public void A_restarted_node_counts_as_impaired_until_it_is_reported_ready()
    {
        // 3 nodes (f = 1), kills only: after a kill the only step is its restart, and until that node is ready the
        // nemesis may not kill another (that would leave one live node of three).
        var schedule = new NemesisSchedule(3, 4, 3000, 6000, NemesisFaults.Kill);
        var kill = schedule.Next(leader: 1);
        Assert.True(kill.IsKill);
        Assert.Equal(NemesisStepKind.Restart, schedule.Next(leader: 2).Kind);
        Assert.Equal([kill.Nodes[0]], schedule.Recovering);
        for (var i = 0; i < 20; i++)
        {
            var step = schedule.Next(leader: 2);
            // Only the recovering node itself may be killed again, then restarted.
            Assert.Equal(kill.Nodes[0], step.Nodes[0]);
            Assert.True(schedule.Impaired.Count <= 1);
        }
        var healthy = new NemesisSchedule(3, 4, 3000, 6000, NemesisFaults.Kill);
        var first = healthy.Next(leader: 1);
        healthy.Next(leader: 2);
        healthy.Recovered(first.Nodes[0]);
        Assert.Empty(healthy.Recovering);
        Assert.Empty(healthy.Impaired); // the budget is free again: any node may be killed next
        Assert.True(healthy.Next(leader: 2).IsKill);
    }

    [Fact]
    public void A_leader_partition_puts_the_leader_in_the_minority()
    {
        // Without kills the observed leader is always alive, so it is always the one cut off.
        var partitions = Plan(21, faults: NemesisFaults.Partition).Concat(Plan(22, faults: NemesisFaults.Partition)).Where(s => s.Kind == NemesisStepKind.PartitionLeader).ToList();
        Assert.NotEmpty(partitions);
        Assert.All(partitions, s => Assert.Contains(s.Leader!.Value, s.Nodes));
        Assert.Contains("in the minority", partitions[0].Describe(5));
    }

    [Fact]
    public void Steps_describe_themselves()
    {
        Assert.Equal("kill -9 node 3 (the leader)", new NemesisStep(0, NemesisStepKind.KillLeader, [3], 3).Describe(5));
        Assert.Equal("kill -9 node 3 (no leader known: a random node)", new NemesisStep(0, NemesisStepKind.KillLeader, [3], null).Describe(5));
        Assert.Contains("killing leader 4 would leave no majority", new NemesisStep(0, NemesisStepKind.KillLeader, [3], 4).Describe(5));
        Assert.Equal("partition 1,2 / 3,4,5 (leader 2 in the minority)", new NemesisStep(0, NemesisStepKind.PartitionLeader, [1, 2], 2).Describe(5));
        Assert.Equal("partition 4 / 1,2,3,5", new NemesisStep(0, NemesisStepKind.PartitionNodes, [4], 2).Describe(5));
        Assert.Equal("restart node 1", new NemesisStep(0, NemesisStepKind.Restart, [1], 2).Describe(5));
    }

    [Fact]
    public void Bad_arguments_are_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new NemesisSchedule(2, 1, 3000, 6000, NemesisFaults.All));
}

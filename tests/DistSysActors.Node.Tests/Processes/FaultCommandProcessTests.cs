using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>`distsys fault drop|duplicate|reorder --seed` and `heal` on every node of a real cluster.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class FaultCommandProcessTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private const long Seed = 4242;

    private ProcessCluster Cluster => fixture.Cluster;

    private async Task CliAsync(params string[] args)
    {
        var (code, text) = await Cluster.CliAsync(args);
        output.WriteLine($"$ distsys {string.Join(' ', args)}  (exit {code})\n{text}");
        Assert.Equal(0, code);
        for (var i = 1; i <= 3; i++) Assert.Contains($"node {i}: faults now", text);
    }

    private async Task<NetworkDto[]> NetworksAsync()
    {
        var networks = new NetworkDto[3];
        for (var i = 1; i <= 3; i++)
        {
            using var c = Cluster.Client(i);
            networks[i - 1] = (await c.StatusAsync()).Network;
        }
        return networks;
    }

    /// <summary>
    /// Every node has these faults and no partition, and its fault random source restarted from the spec's seed
    /// (polled: a node busy restarting its actor system answers /status with 503 for a moment).
    /// </summary>
    private async Task AssertEveryNodeHasAsync(double drop, double duplicate, bool reorder, long? seed)
    {
        var seen = "";
        try
        {
            await Cluster.AwaitAsync(async () =>
            {
                var networks = await NetworksAsync();
                seen = string.Join("; ", networks.Select((n, i) => $"node {i + 1}: {Commands.StatusCommand.Describe(n.Faults)}, seed {n.Faults.Seed}, network seed {n.Seed}"));
                return networks.All(n => n.Faults is { Partitions.Length: 0 } f && f.DropRate == drop && f.DuplicateRate == duplicate && f.Reorder == reorder
                                         && f.Seed == seed && (seed is not { } s || n.Seed == s));
            }, TimeSpan.FromSeconds(10), $"every node has drop {drop}, duplicate {duplicate}, reorder {reorder}, seed {seed}");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException($"last seen: {seen}\n{e.Message}");
        }
    }

    /// <summary>Waits until <paramref name="counter"/> has grown by at least <paramref name="by"/> on every node.</summary>
    private async Task AwaitGrowthAsync(Func<NetworkCountersDto, long> counter, int by, string what)
    {
        var before = (await NetworksAsync()).Select(n => counter(n.Counters)).ToArray();
        await Cluster.AwaitAsync(async () =>
        {
            var now = await NetworksAsync();
            return Enumerable.Range(0, 3).All(i => counter(now[i].Counters) >= before[i] + by);
        }, TimeSpan.FromSeconds(15), $"every node has {what} {by} more messages");
    }

    [Fact]
    public async Task Fault_drop_duplicate_and_reorder_with_a_seed_reach_every_node_and_act_there_until_heal_clears_them()
    {
        await fixture.EnsureRunningAsync();

        await CliAsync("fault", "drop", "0.2", "--seed", $"{Seed}");
        await AssertEveryNodeHasAsync(drop: 0.2, duplicate: 0, reorder: false, seed: Seed);
        await AwaitGrowthAsync(c => c.Dropped, 10, "dropped");

        // Faults accumulate: the drop rate and the seed stay.
        await CliAsync("fault", "duplicate", "0.2");
        await AssertEveryNodeHasAsync(drop: 0.2, duplicate: 0.2, reorder: false, seed: Seed);
        await AwaitGrowthAsync(c => c.Duplicated, 10, "duplicated");

        await CliAsync("fault", "delay", "1-20");
        await CliAsync("fault", "reorder", "on");
        await AssertEveryNodeHasAsync(drop: 0.2, duplicate: 0.2, reorder: true, seed: Seed);
        Assert.All(await NetworksAsync(), n => Assert.Equal(new[] { 1, 20 }, n.Faults.DelayMs));
        await AwaitGrowthAsync(c => c.Delayed, 10, "delayed");

        await CliAsync("fault", "heal");
        await AssertEveryNodeHasAsync(drop: 0, duplicate: 0, reorder: false, seed: null);
        Assert.All(await NetworksAsync(), n => Assert.Equal("none", Commands.StatusCommand.Describe(n.Faults)));
        // Healed: messages keep flowing, and none is dropped, duplicated or delayed any more.
        var healed = await NetworksAsync();
        await AwaitGrowthAsync(c => c.Sent, 50, "sent");
        var now = await NetworksAsync();
        for (var i = 0; i < 3; i++)
        {
            var (b, a) = (healed[i].Counters, now[i].Counters);
            Assert.True((a.Dropped, a.Duplicated, a.Delayed) == (b.Dropped, b.Duplicated, b.Delayed),
                $"node {i + 1} went on from dropped/duplicated/delayed {b.Dropped}/{b.Duplicated}/{b.Delayed} to {a.Dropped}/{a.Duplicated}/{a.Delayed} after heal");
        }
    }

    [Fact]
    public async Task A_partition_keeps_each_nodes_own_other_faults()
    {
        await fixture.EnsureRunningAsync();
        try
        {
            // Node 3 alone drops 10% of its messages (set on it directly, as the dashboard or a script can).
            using (var c = Cluster.Client(3))
            {
                using var set = await c.PostFaultsAsync(new FaultSpecDto([], 0.1, [0, 0], 0, false, null));
                Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
            }
            await CliAsync("fault", "partition", "1,2/3", "--node", "1");
            var networks = await NetworksAsync();
            Assert.All(networks, n => Assert.Equal("1,2/3", string.Join("/", n.Faults.Partitions.Select(g => string.Join(",", g)))));
            Assert.Equal(new[] { 0.0, 0.0, 0.1 }, networks.Select(n => n.Faults.DropRate));
        }
        finally { await Cluster.HealAllAsync(); }
    }
}

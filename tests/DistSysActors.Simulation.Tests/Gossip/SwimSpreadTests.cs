using System.Diagnostics;
using DistSysActors.Core;
using DistSysActors.Core.Gossip;
using DistSysActors.Core.Network;
using Xunit.Abstractions;

namespace DistSysActors.Simulation.Tests.Gossip;

/// <summary>
/// How fast a rumour spreads (SWIM section 4.1: infection-style dissemination reaches everyone in O(log N) periods). The
/// rumour is a refutation: node 1 is told it is suspected and raises its incarnation; the spread is done when every other
/// node holds the new incarnation. Figures are recorded in docs/gossip.md.
/// </summary>
public sealed class SwimSpreadTests(ITestOutputHelper output)
{
    // c in "within c·log2 N periods"; measured spreads sit well under it (docs/gossip.md).
    private const double SpreadFactor = 1.5;

    internal static double SpreadPeriods(int n, long seed, FaultSpec? faults = null)
    {
        var cluster = new SwimCluster(n, seed, faults: faults, tickMs: n >= 1_000 ? 250 : 100);
        var rumour = cluster.Ids[0];
        cluster.Sim.RunFor(3 * cluster.Config.PeriodMs);
        // Under loss a false suspicion may already have been refuted in the warm-up: the rumour is the next refutation.
        var before = cluster.Cores[rumour].Incarnation;
        var informed = new HashSet<NodeId>();
        cluster.ChangeListener = (viewer, c) => { if (c.Member == rumour && c.Incarnation > before) informed.Add(viewer); };
        var startMs = cluster.Sim.NowMs;
        cluster.Invoke(rumour, (core, now) => core.Step(new SwimAck(cluster.Ids[1], -1, [new MemberUpdate(rumour, MemberState.Suspect, before, cluster.Ids[1])]), now));
        Assert.Equal(before + 1, cluster.Cores[rumour].Incarnation);
        var bound = (long)Math.Ceiling(4 * SpreadFactor * Math.Log2(n)) * cluster.Config.PeriodMs;
        var done = cluster.Sim.RunUntil(() => informed.Count == n - 1, bound);
        Assert.True(done, $"seed={seed}: after {bound} ms only {informed.Count} of {n - 1} nodes heard the rumour");
        return cluster.Periods(startMs, cluster.Sim.NowMs);
    }

    /// <summary>Set to 1 to include N = 1,000 (about 16 s; its figure is recorded in docs/gossip.md).</summary>
    public const string LargeVariable = "DISTSYS_GOSSIP_LARGE";

    [Fact]
    public void Section_4_1_a_rumour_reaches_all_N_members_within_c_log_N_periods_and_the_spread_grows_like_log_N()
    {
        var sizes = new List<(int N, int Seeds)> { (10, 10), (100, 2) };
        if (Environment.GetEnvironmentVariable(LargeVariable) == "1") sizes.Add((1_000, 1));
        var means = new Dictionary<int, double>();
        foreach (var (n, seeds) in sizes)
        {
            var rounds = new List<double>();
            var watch = Stopwatch.StartNew();
            SeedRunner.Run(seeds, seed =>
            {
                var periods = SpreadPeriods(n, seed);
                rounds.Add(periods);
                Assert.True(periods <= SpreadFactor * Math.Log2(n), $"seed={seed}: N={n} took {periods:F1} periods, bound {SpreadFactor}·log2 N = {SpreadFactor * Math.Log2(n):F1}");
            }, $"{nameof(Section_4_1_a_rumour_reaches_all_N_members_within_c_log_N_periods_and_the_spread_grows_like_log_N)}_N{n}");
            means[n] = rounds.Average();
            output.WriteLine($"N={n}: periods to reach all, over {rounds.Count} seeds: min {rounds.Min():F1}, mean {rounds.Average():F1}, max {rounds.Max():F1} (log2 N = {Math.Log2(n):F1}); {watch.ElapsedMilliseconds} ms");
        }
        // The shape: ten times the members costs a bounded number of extra periods (about log2 10 = 3.3 for a log N
        // spread), nowhere near ten times the periods a linear spread would take.
        foreach (var (small, large) in means.Keys.Order().Zip(means.Keys.Order().Skip(1)))
        {
            var extra = means[large] - means[small];
            Assert.True(extra <= 2 * Math.Log2((double)large / small), $"N={small} -> {large}: mean spread grew by {extra:F1} periods, more than 2·log2({large / small})");
            Assert.True(means[large] < means[small] * large / small / 2, $"N={small} -> {large}: the spread grew nearly linearly ({means[small]:F1} -> {means[large]:F1})");
        }
    }
}

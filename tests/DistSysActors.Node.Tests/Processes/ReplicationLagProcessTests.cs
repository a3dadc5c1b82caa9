using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using DistSysActors.Node.Http;
using Xunit.Abstractions;
using static DistSysActors.Node.Tests.Processes.SlowFollowerCluster;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Replication lag on 3 real processes, node 3 a delayed replica (apply-delay-ms): the anomalies stale reads show
/// (missing one's own write, time going backwards across replicas), the session modes that never show them,
/// consistent prefix in every mode, and /status.replication's lag for a slowed and a partitioned follower.
/// </summary>
public sealed class ReplicationLagProcessTests(SlowFollowerCluster fixture, ITestOutputHelper output) : IClassFixture<SlowFollowerCluster>
{
    private ProcessCluster Cluster => fixture.Cluster;

    private async Task<(int Code, string Body, long? Applied)> GetAsync(int node, string path)
    {
        using var client = Cluster.Client(node);
        var (code, body, _, applied) = await client.ExchangeAsync(HttpMethod.Get, path, null, null);
        return (code, body, applied);
    }

    private async Task<long> PutAsync(int node, string key, string value)
    {
        using var client = Cluster.Client(node);
        (int Code, string Body) answer = (0, "");
        await Cluster.AwaitAsync(async () => (answer = await client.SendAsync(HttpMethod.Put, $"/kv/{key}", new StringContent(value))).Code == 200,
            TimeSpan.FromSeconds(20), $"PUT /kv/{key} through node {node} answers 200");
        return IndexOf(answer.Body);
    }

    private static int Counter(string body) => int.Parse(body, CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_client_reading_stale_from_the_slow_follower_misses_its_own_writes_and_never_does_with_read_your_writes()
    {
        await fixture.EnsureRunningAsync();
        const int rounds = 20;
        var key = $"ryw-{Guid.NewGuid():N}";
        int missed = 0, rywAnswered = 0;
        long staleEntriesMax = 0, staleEntriesSum = 0;
        var rywWaitMs = new List<double>();
        for (var i = 1; i <= rounds; i++)
        {
            var index = await PutAsync(Leader, key, $"w{i}");
            var stale = await GetAsync(SlowFollower, $"/kv/{key}?consistency=stale");
            Assert.NotNull(stale.Applied); // every answered GET carries X-Applied-Index
            if (stale.Code != 200 || stale.Body != $"w{i}")
            {
                missed++;
                staleEntriesMax = Math.Max(staleEntriesMax, index - stale.Applied!.Value);
                staleEntriesSum += index - stale.Applied!.Value;
                Assert.True(stale.Applied < index, $"a replica that applied {stale.Applied} >= {index} must show w{i}, showed {stale.Body}");
            }
            var watch = Stopwatch.StartNew();
            var ryw = await GetAsync(SlowFollower, $"/kv/{key}?consistency=read-your-writes&min-index={index}");
            rywWaitMs.Add(watch.Elapsed.TotalMilliseconds);
            if (ryw.Code == 200)
            {
                rywAnswered++;
                Assert.Equal($"w{i}", ryw.Body); // never an older value
                Assert.True(ryw.Applied >= index);
            }
            else
            {
                // Behind within the session wait: refused, never answered with an older value.
                Assert.Equal(503, ryw.Code);
                Assert.Contains("\"outcome\":\"behind\"", ryw.Body);
            }
        }
        output.WriteLine($"stale reads from node {SlowFollower} right after the write: {missed}/{rounds} missed it, " +
            $"{(missed == 0 ? 0 : staleEntriesSum / (double)missed):0.0} entries behind on average, {staleEntriesMax} at most");
        output.WriteLine($"read-your-writes from node {SlowFollower}: {rywAnswered}/{rounds} answered with the write, " +
            $"waiting p50 {rywWaitMs.Order().ElementAt(rounds / 2):0} ms, max {rywWaitMs.Max():0} ms");
        Assert.True(missed >= rounds / 2, $"with a {ApplyDelayMs} ms apply delay most stale reads miss the write just made; {missed}/{rounds} did");
        Assert.True(rywAnswered >= rounds - 2, $"the session wait covers the apply delay: {rywAnswered}/{rounds} answered");
    }

    [Fact]
    public async Task Stale_reads_across_two_followers_go_back_in_time_monotonic_reads_never_and_every_mode_keeps_a_consistent_prefix()
    {
        await fixture.EnsureRunningAsync();
        var key = $"counter-{Guid.NewGuid():N}";
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => fixture.WriteCounterAsync(key, stop.Token, prefixKeys: true));
        try
        {
            await Cluster.AwaitAsync(async () => (await GetAsync(SlowFollower, $"/kv/{key}-y?consistency=stale")).Code == 200,
                TimeSpan.FromSeconds(20), "the slow follower has applied the first writes");

            // Stale: alternate the fast and the slow follower, one client.
            int staleBack = 0, last = 0;
            for (var i = 0; i < 40; i++)
            {
                var r = await GetAsync(i % 2 == 0 ? FastFollower : SlowFollower, $"/kv/{key}?consistency=stale");
                var value = Counter(r.Body);
                if (value < last) staleBack++;
                last = Math.Max(last, value);
            }

            // Monotonic: the same, each read passing the previous one's X-Applied-Index.
            int monotonicBack = 0, monotonicServed = 0;
            long minIndex = 0;
            last = 0;
            for (var i = 0; i < 40; i++)
            {
                var r = await GetAsync(i % 2 == 0 ? FastFollower : SlowFollower, $"/kv/{key}?consistency=monotonic&min-index={minIndex}");
                Assert.NotNull(r.Applied);
                if (r.Code != 200)
                {
                    Assert.Contains("\"outcome\":\"behind\"", r.Body);
                    continue;
                }
                monotonicServed++;
                var value = Counter(r.Body);
                if (value < last) monotonicBack++;
                last = Math.Max(last, value);
                Assert.True(r.Applied >= minIndex, $"served at applied index {r.Applied} below min-index {minIndex}");
                minIndex = r.Applied!.Value;
            }
            output.WriteLine($"40 alternating reads: stale went back in time {staleBack} times; monotonic {monotonicBack} times ({monotonicServed} served)");
            Assert.True(staleBack > 0, "stale reads alternating between a fast and a delayed follower go back in time");
            Assert.Equal(0, monotonicBack);
            Assert.True(monotonicServed >= 30, $"monotonic reads are served once the replica catches up: {monotonicServed}/40");

            // Consistent prefix: x = i precedes y = i in the log, so a replica that shows y = i shows x >= i.
            var modes = new[] { "stale", "read-your-writes&min-index=0", "monotonic&min-index=0", "bounded&max-lag-ms=60000", "lease", "linearizable" };
            foreach (var mode in modes)
                foreach (var node in new[] { Leader, FastFollower, SlowFollower })
                    for (var i = 0; i < 5; i++)
                    {
                        var y = await GetAsync(node, $"/kv/{key}-y?consistency={mode}");
                        var x = await GetAsync(node, $"/kv/{key}-x?consistency={mode}");
                        foreach (var answer in new[] { y, x })
                            if (answer.Code is 200 or 404 || answer.Body.Contains("\"behind\"", StringComparison.Ordinal))
                                Assert.True(answer.Applied is not null, $"{mode} on node {node}: an answered GET carries X-Applied-Index");
                        if (y.Code != 200 || x.Code != 200) continue;
                        Assert.True(Counter(x.Body) >= Counter(y.Body), $"{mode} on node {node}: y = {y.Body} visible without x = {y.Body} (x = {x.Body})");
                    }
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }
    }

    [Fact]
    public async Task Status_replication_shows_plausible_lag_for_the_slow_follower_and_null_for_a_partitioned_one()
    {
        await fixture.EnsureRunningAsync();
        var key = $"load-{Guid.NewGuid():N}";
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => fixture.WriteCounterAsync(key, stop.Token));
        try
        {
            ReplicaDto? slow = null, fast = null;
            await Cluster.AwaitAsync(async () =>
            {
                using var c = Cluster.Client(Leader);
                var replicas = (await c.StatusAsync()).Replication!.Replicas;
                slow = replicas.Single(r => r.NodeId == SlowFollower);
                fast = replicas.Single(r => r.NodeId == FastFollower);
                return slow is { LinkUp: true, LagMs: >= ApplyDelayMs / 2 and < 10 * ApplyDelayMs, LagEntries: > 0 } && fast.LagMs < slow.LagMs;
            }, TimeSpan.FromSeconds(20), $"the leader sees node {SlowFollower} lag between {ApplyDelayMs / 2} and {10 * ApplyDelayMs} ms, more than node {FastFollower}");
            output.WriteLine($"under load: slow follower lag {slow!.LagEntries} entries / {slow.LagMs} ms (write lag {slow.WriteLagMs} ms); "
                + $"fast follower {fast!.LagEntries} entries / {fast.LagMs} ms");
            Assert.True(slow.WriteLagMs < slow.LagMs, "the delayed replica holds the entries: its write lag is below its apply lag");
            using (var c = Cluster.Client(SlowFollower))
            {
                var own = (await c.StatusAsync()).Replication!;
                Assert.Equal("Follower", own.Role);
                Assert.Empty(own.Replicas);
            }
            await Cluster.AwaitAsync(async () =>
            {
                using var c = Cluster.Client(SlowFollower);
                return (await c.StatusAsync()).Replication!.LagMs > 0;
            }, TimeSpan.FromSeconds(10), $"node {SlowFollower} reports its own lag above 0 under load");

            // Bounded reads under the same load: the slow follower refuses a tight bound, serves a loose one.
            // Its lag swings between 0 and the apply delay with the writer's pace (a loaded machine can stall the writer long
            // enough for the replica to catch up for a moment): some tight read while the writes go on must be refused.
            (int Code, string Body, long? Applied) tight = default;
            await Cluster.AwaitAsync(async () => (tight = await GetAsync(SlowFollower, $"/kv/{key}?consistency=bounded&max-lag-ms=50")).Code == 503,
                TimeSpan.FromSeconds(10), $"node {SlowFollower}, lagging under the writes, refuses a read bounded to 50 ms");
            Assert.Contains("\"outcome\":\"behind\"", tight.Body);
            Assert.NotNull(tight.Applied);
            var loose = await GetAsync(SlowFollower, $"/kv/{key}?consistency=bounded&max-lag-ms=60000");
            Assert.True(loose.Code is 200 or 404, $"served from the replica's own state (404 until it applies the key's first write), got {loose.Code} {loose.Body}");

            // Partition the fast follower away (every node applies the same spec): its lag becomes unknown, not 0.
            foreach (var id in new[] { 1, 2, 3 })
            {
                using var c = Cluster.Client(id);
                var answer = await c.PostFaultsAsync(new FaultSpecDto([[1, 3], [2]], 0, [0, 0], 0, false, null));
                Assert.True(answer.IsSuccessStatusCode, $"node {id} accepts the partition");
            }
            await Cluster.AwaitAsync(async () =>
            {
                using var c = Cluster.Client(Leader);
                var cut = (await c.StatusAsync()).Replication!.Replicas.Single(r => r.NodeId == FastFollower);
                return cut is { LinkUp: false, LagMs: null, LagEntries: null, WriteLagMs: null };
            }, TimeSpan.FromSeconds(10), $"the leader reports node {FastFollower}'s lag as unknown (null)");
            await Cluster.AwaitAsync(async () =>
            {
                using var c = Cluster.Client(FastFollower);
                return (await c.StatusAsync()).Replication!.LagMs is null;
            }, TimeSpan.FromSeconds(10), $"node {FastFollower} reports its own lag as unknown");
            var unknown = await GetAsync(FastFollower, $"/kv/{key}?consistency=bounded&max-lag-ms=60000");
            Assert.Equal(503, unknown.Code); // however loose the bound, an unknown lag is not within it
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
            await Cluster.HealAllAsync();
        }
        await Cluster.AwaitAsync(async () =>
        {
            using var c = Cluster.Client(Leader);
            return (await c.StatusAsync()).Replication!.Replicas.Single(r => r.NodeId == FastFollower).LagMs is not null;
        }, TimeSpan.FromSeconds(20), $"node {FastFollower}'s lag is measured again after the heal");
    }

    [Fact]
    public async Task The_cli_reads_its_own_write_on_the_slow_follower_with_a_session_and_distsys_replicas_prints_the_table()
    {
        await fixture.EnsureRunningAsync();
        var sessionFile = Path.Combine(Cluster.DataDir, $"session-{Guid.NewGuid():N}");
        var key = $"cli-{Guid.NewGuid():N}";
        for (var i = 1; i <= 3; i++)
        {
            var put = await Cluster.CliAsync("kv", "put", key, $"v{i}", "--node", $"{Leader}", "--session-file", sessionFile);
            Assert.Equal(0, put.Code);
            var get = await Cluster.CliAsync("kv", "get", key, "--session", "--node", $"{SlowFollower}", "--session-file", sessionFile);
            output.WriteLine($"put v{i}: {put.Out.Trim()}; get --session on node {SlowFollower}: {get.Out.Trim()}");
            Assert.Equal(0, get.Code);
            Assert.Equal($"v{i}", get.Out.Trim());
        }
        Assert.True(long.Parse(File.ReadAllText(sessionFile).Trim(), CultureInfo.InvariantCulture) > 0);

        var (code, table) = await Cluster.CliAsync("replicas", "--node", $"{SlowFollower}");
        output.WriteLine(table);
        Assert.Equal(0, code);
        Assert.Contains($"replication as seen by the leader (node {Leader})", table);
        Assert.Contains("LAG MS", table);
        Assert.Contains($"node {SlowFollower} (Follower): applied", table);
    }
}

using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// kill -9 of every node at once, under a stream of writes: after the restart, every write that was acknowledged reads
/// back, and the cluster serves writes again (the time it took is printed; its target is checked by benchmarks, not here).
/// </summary>
public sealed class WholeClusterCrashProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_of_all_nodes_at_once()
    {
        using var cluster = new ProcessCluster(3);
        cluster.StartAll();
        await cluster.AwaitAsync(cluster.AllReadyAsync, TestTime.Scaled(TimeSpan.FromSeconds(90)), "the cluster is ready");

        // Writes from two clients until the crash; only the answered ones count as acknowledged.
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                var (key, value) = ($"crash-{w}-{k}", $"v{k}");
                try
                {
                    using var client = cluster.Client(1 + k % 3);
                    if ((await client.SendAsync(HttpMethod.Put, $"/kv/{key}", new StringContent(value, Encoding.UTF8))).Code == 200) acknowledged[key] = value;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            }
        })).ToList();
        await cluster.AwaitAsync(() => Task.FromResult(acknowledged.Count >= 100), TestTime.Scaled(TimeSpan.FromSeconds(60)), "100 writes are acknowledged");
        for (var id = 1; id <= 3; id++) cluster.Kill(id);
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        output.WriteLine($"{acknowledged.Count} writes acknowledged before kill -9 of all three nodes");

        var restart = Stopwatch.StartNew();
        cluster.StartAll();
        var attempt = 0;
        await cluster.AwaitAsync(async () =>
            {
                try
                {
                    using var client = cluster.Client(1 + attempt++ % 3); // any node: followers pass writes on to the leader
                    return (await client.SendAsync(HttpMethod.Put, "/kv/after-crash", new StringContent("x", Encoding.UTF8))).Code == 200;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
            },
            TestTime.Scaled(TimeSpan.FromSeconds(90)), "the restarted cluster acknowledges a write");
        output.WriteLine($"first write acknowledged {restart.ElapsedMilliseconds} ms after the processes were started again");

        using var reader = cluster.Client(await cluster.LeaderAsync());
        var lost = new List<string>();
        foreach (var (key, value) in acknowledged)
        {
            var (code, body) = await reader.SendAsync(HttpMethod.Get, $"/kv/{key}");
            if (code != 200 || !body.Contains(value, StringComparison.Ordinal)) lost.Add($"{key} ({code} {body})");
        }
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged writes lost: {string.Join(", ", lost.Take(5))}");
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Runs alone, after the parallel tests: a millisecond-level figure needs a host whose scheduler is not saturated
/// by other clusters starting at the same moment.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialProcessCollection
{
    public const string Name = "clock sync on real processes";
}

/// <summary>Three real `distsys node` processes with injected clock skews, synchronized by NTP-style polling of node 2.</summary>
[Collection(SerialProcessCollection.Name)]
public sealed partial class ClockSyncProcessTests(ITestOutputHelper output)
{
    private const int Reference = 2;
    // Scaled with the test time factor: on a loaded machine scheduling delays make round trips asymmetric.
    private static readonly double ToleranceMs = 5 * TestTime.Factor;
    private static readonly Dictionary<int, long> SkewsMs = new() { [1] = -300, [2] = 0, [3] = 400 };

    [Fact]
    public async Task Nodes_skewed_by_minus_300_0_and_400_ms_sync_their_corrected_clocks_to_within_5_ms_of_the_reference()
    {
        using var cluster = new ProcessCluster(3);
        var watch = Stopwatch.StartNew();
        foreach (var (id, skew) in SkewsMs)
            cluster.Start(id, "--set", $"distsys.clock.skew-ms={skew}", "--set", $"distsys.clock.reference-node-id={Reference}",
                "--set", "distsys.raft.enabled=off"); // not needed here, and its elections would only compete for the CPU

        var clocks = new Dictionary<int, ClockDto>();
        async Task<bool> WithinToleranceAsync()
        {
            for (var id = 1; id <= 3; id++)
            {
                using var client = cluster.Client(id);
                clocks[id] = (await client.StatusAsync()).Clock ?? throw new Xunit.Sdk.XunitException($"node {id} has no clock in /status");
            }
            return clocks.Keys.All(id => Math.Abs(ErrorMs(clocks, id)) <= ToleranceMs);
        }
        // Synced once both the corrected clock and the offset estimate are within tolerance (a slew can close one first).
        async Task<bool> SyncedAsync() => await WithinToleranceAsync() && clocks.All(kv => kv.Value.Synced
            && Math.Abs(kv.Value.OffsetMs!.Value - (SkewsMs[kv.Key] - SkewsMs[Reference])) <= ToleranceMs);
        try
        {
            await cluster.AwaitAsync(SyncedAsync, TimeSpan.FromSeconds(120), $"every node is synced and within {ToleranceMs} ms of node {Reference}");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            var last = string.Join("; ", clocks.Select(kv => $"node {kv.Key}: offset {kv.Value.OffsetMs} ms, delay {kv.Value.DelayMs} ms, " +
                                                               $"synced {kv.Value.Synced}, error {(clocks.ContainsKey(Reference) ? ErrorMs(clocks, kv.Key) : double.NaN):0.00} ms"));
            throw new Xunit.Sdk.XunitException($"last clocks seen: {last}\n{e.Message}");
        }
        var syncedAfter = watch.Elapsed;

        foreach (var (id, c) in clocks)
        {
            // The truth is known here: each raw clock is the host clock plus its injected skew.
            Assert.Equal(SkewsMs[id], c.SkewMs);
            Assert.Equal(Reference, c.ReferenceNodeId);
            Assert.InRange(c.OffsetMs!.Value, SkewsMs[id] - SkewsMs[Reference] - ToleranceMs, SkewsMs[id] - SkewsMs[Reference] + ToleranceMs);
            output.WriteLine($"node {id}: skew {c.SkewMs} ms, estimated offset {c.OffsetMs:0.0} ms, delay {c.DelayMs} ms, " +
                             $"corrected error {ErrorMs(clocks, id):0.00} ms, steps {c.StepCount}, HLC rejections {c.HlcRejected}");
        }

        // It stays there: poll for another 5 s and keep the worst error seen.
        var worst = 0.0;
        for (var i = 0; i < 10; i++)
        {
            await Task.Delay(500);
            Assert.True(await WithinToleranceAsync(), $"still within {ToleranceMs} ms on poll {i}: " +
                string.Join(", ", clocks.Keys.Select(id => $"node {id} {ErrorMs(clocks, id):0.00} ms")));
            worst = Math.Max(worst, clocks.Keys.Max(id => Math.Abs(ErrorMs(clocks, id))));
        }

        var (code, text) = await CliAsync(cluster, "clock");
        Assert.Equal(0, code);
        var reported = double.Parse(LargestError().Match(text).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(reported, 0, ToleranceMs);
        output.WriteLine($"synced within {ToleranceMs} ms after {syncedAfter.TotalSeconds:0.0} s from start; worst corrected-clock error over the next 5 s: {worst:0.00} ms; `distsys clock` reports {reported:0.0} ms");
    }

    /// <summary>Node <paramref name="id"/>'s corrected clock minus the reference's, both measured against the host clock.</summary>
    private static double ErrorMs(Dictionary<int, ClockDto> clocks, int id) => clocks[id].CorrectedOffsetMs - clocks[Reference].CorrectedOffsetMs;

    private async Task<(int Code, string Out)> CliAsync(ProcessCluster cluster, params string[] args)
    {
        var result = await cluster.CliAsync(args);
        output.WriteLine($"$ distsys {string.Join(' ', args)}\n{result.Out}");
        return result;
    }

    [GeneratedRegex(@"largest corrected-clock error against node \d+: ([0-9.]+) ms")]
    private static partial Regex LargestError();
}

using System.Diagnostics;
using Xunit.Abstractions;

namespace DistSysActors.Dashboard.Tests;

/// <summary>
/// `distsys tour raft`, `distsys tour partition` and `distsys tour lag` end to end, as a user runs them beside `distsys local`: every step
/// printed and checked, exit 0; the steps show on the dashboard as narration. An unknown or absent topic exits 1 and says why.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class TourProcessTests(LocalClusterFixture cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task Tour_raft_partition_and_lag_run_every_step_against_the_local_cluster_and_narrate_on_the_dashboard()
    {
        foreach (var topic in new[] { "raft", "partition", "lag" })
        {
            await cluster.AwaitWholeAsync();
            var (code, stdout, stderr) = await RunAsync(["tour", topic, "--http-base-port", $"{cluster.Local.HttpBasePort}", "--base-port", $"{cluster.Local.BasePort}"],
                TimeSpan.FromMinutes(3));
            output.WriteLine(stdout + stderr);
            Assert.True(code == 0, $"tour {topic} exited {code}: {stderr}");
            Assert.Contains($"tour {topic}: every step held.", stdout);
            Assert.Contains("using the cluster of 3 nodes `distsys local` runs", stdout);
            Assert.DoesNotContain("FAILED", stdout);
        }
        using var http = new HttpClient();
        var launcher = await http.GetStringAsync(cluster.DashboardUrl + "dashboard/launcher");
        Assert.Contains("\"topic\":\"partition\"", launcher);
        Assert.Contains("\"state\":\"ok\"", launcher);
    }

    [Fact]
    public async Task An_unknown_tour_or_clocks_beside_a_running_cluster_exits_1_and_says_why_and_the_list_names_every_topic()
    {
        var (list, listOut, _) = await RunAsync(["tour"], TimeSpan.FromMinutes(1));
        Assert.Equal(0, list);
        foreach (var t in new[] { "raft", "partition", "paxos", "2pc", "idempotency", "clocks", "lag", "gossip", "detection" }) Assert.Contains($"  {t} ", listOut);
        var (unknown, _, unknownErr) = await RunAsync(["tour", "nope"], TimeSpan.FromMinutes(1));
        Assert.Equal(1, unknown);
        Assert.Contains("unknown tour 'nope'", unknownErr);
        // The clocks tour starts its own skewed nodes: beside a running `distsys local` it refuses at once, saying why.
        var (clocks, _, clocksErr) = await RunAsync(["tour", "clocks", "--http-base-port", $"{cluster.Local.HttpBasePort}", "--base-port", $"{cluster.Local.BasePort}"],
            TimeSpan.FromMinutes(1));
        Assert.Equal(1, clocks);
        Assert.Contains("starts its own nodes", clocksErr);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(LocalLauncherProcess.Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(LocalLauncherProcess.Scaled(timeout));
        try { await p.WaitForExitAsync(cancel.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"`distsys {string.Join(' ', args)}` still ran after {timeout}; output:\n{await stdout}{await stderr}");
        }
        return (p.ExitCode, await stdout, await stderr);
    }
}

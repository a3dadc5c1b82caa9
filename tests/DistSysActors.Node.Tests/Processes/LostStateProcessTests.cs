using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DistSysActors.Node.Http;
using Xunit.Abstractions;
using static DistSysActors.Node.Tests.Processes.LocalCommandProcessTests;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// A voter that lost its disk must not vote again as if nothing happened: restarted over an empty data directory with
/// the command `distsys local` printed, node 1 refuses to start, saying why and printing the commands that bring it back
/// as a new server; run as printed, they make it a voter again that holds every acknowledged write.
/// </summary>
public sealed partial class LostStateProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private const int Writes = 20;

    [GeneratedRegex(@"^started node (\d) \(pid (\d+)\)")]
    private static partial Regex StartedLine();

    [Fact]
    public async Task A_voter_restarted_over_a_wiped_data_directory_refuses_to_start_and_returns_through_the_commands_it_prints()
    {
        using var cluster = new ProcessCluster(3);
        using var local = new LocalProcess(["local", "--nodes", "3", "--base-port", $"{cluster.BasePort}", "--http-base-port", $"{cluster.HttpBasePort}",
            "--data-dir", cluster.DataDir, "--ready-timeout", $"{TestTime.Scaled(ReadyTimeout).TotalSeconds:0}"], TestTime.Scaled(HardTimeout));
        cluster.AddLogSource("distsys local", () => local.Output);
        await AwaitLineAsync(cluster, local, l => l.StartsWith("cluster ready in ", StringComparison.Ordinal), ReadyTimeout + TimeSpan.FromSeconds(30),
            "`local` prints \"cluster ready in\"");
        var pids = local.Lines.Select(l => StartedLine().Match(l)).Where(m => m.Success)
            .ToDictionary(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        local.KillOnDispose(pids.Values);
        // Each node marked its data directory as holding its Raft state at its first start.
        Assert.All(pids.Keys, id => Assert.True(File.Exists(Path.Combine(cluster.DataDir, $"node-{id}", Hosting.NodeHost.StateMarkerFile)), $"node {id}'s marker"));

        // Acknowledged writes, with node 1 one of the three voters; and node 1 has been an Up member for a while.
        using (var c = cluster.Client(2))
            for (var k = 0; k < Writes; k++)
                await cluster.AwaitAsync(async () => (await c.SendAsync(HttpMethod.Put, $"/kv/lost-{k}", new StringContent($"v{k}", Encoding.UTF8))).Code == 200,
                    TimeSpan.FromSeconds(30), $"write lost-{k} is acknowledged");

        // kill -9 node 1, wipe its data directory, and run the restart command `local` printed, from another folder.
        using (var victim = System.Diagnostics.Process.GetProcessById(pids[1])) victim.Kill();
        await AwaitLineAsync(cluster, local, l => l.Contains($"node 1 (pid {pids[1]}) EXITED", StringComparison.Ordinal), TimeSpan.FromSeconds(20),
            "`local` reports node 1's exit");
        await AwaitLineAsync(cluster, local, l => l.Contains("restart it with: ", StringComparison.Ordinal), TimeSpan.FromSeconds(5),
            "`local` prints the command that restarts node 1");
        var leader = await cluster.LeaderAsync([2, 3]);
        long term;
        using (var c = cluster.Client(leader)) term = (await c.StatusAsync()).Raft!.Term;
        Directory.Delete(Path.Combine(cluster.DataDir, "node-1"), recursive: true);
        cluster.LaunchShell(1, RestartCommand(local), workingDirectory: Path.GetTempPath());

        await cluster.AwaitAsync(() => Task.FromResult(cluster.HasExited(1)), TimeSpan.FromSeconds(60), "node 1, restarted over an empty data directory, refuses to start");
        var refusal = cluster.Logs(1);
        output.WriteLine(refusal);
        Assert.Equal(1, cluster.ExitCode(1));
        var lines = refusal.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.StartsWith("node 1: refusing to start: node ", lines[0]);
        Assert.Contains($"knows node 1 as a member of its running cluster", lines[0]);
        Assert.Contains($"{Path.Combine(cluster.DataDir, "node-1")} holds no Raft state (no distsys.db)", lines[0]);
        // It never started an actor system, so it neither voted nor campaigned: the cluster's term is the one before.
        Assert.DoesNotContain("Remoting", refusal);
        Assert.DoesNotContain("raft node 1", refusal);
        using (var c = cluster.Client(leader)) Assert.Equal((leader, term), ((await c.StatusAsync()).Raft!.LeaderId ?? 0, (await c.StatusAsync()).Raft!.Term));

        // The way back, as printed: remove node 1, start it as a new server (it keeps running), add it.
        var commands = lines.Where(l => l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.Equal(3, commands.Count);
        Assert.Contains(" members remove 1 ", commands[0] + " ");
        Assert.Contains(" node --id 1 ", commands[1]);
        Assert.EndsWith(" --join", commands[1]);
        Assert.Contains(" members add 1 ", commands[2] + " ");
        var (removeCode, removeOut) = await ProcessCluster.RunShellAsync(commands[0], Path.GetTempPath());
        output.WriteLine(removeOut);
        Assert.True(removeCode == 0, removeOut);
        cluster.LaunchShell(1, commands[1], workingDirectory: Path.GetTempPath());
        await cluster.AwaitAsync(async () =>
        {
            if (cluster.HasExited(1)) throw new Xunit.Sdk.XunitException($"node 1 exited again:\n{cluster.Logs(1)}");
            using var c = cluster.Client(1);
            return (await c.StatusAsync()).SelfStatus == "Up";
        }, TimeSpan.FromSeconds(90), "node 1, started as a new server, is an Up member");
        var (addCode, addOut) = await ProcessCluster.RunShellAsync(commands[2], Path.GetTempPath());
        output.WriteLine(addOut);
        Assert.True(addCode == 0, addOut);
        Assert.Contains("node 1 is a voter now", addOut);

        // A voter again, holding every acknowledged write in its own state machine.
        using (var c = cluster.Client(1))
        {
            for (var k = 0; k < Writes; k++)
            {
                var key = $"lost-{k}";
                await cluster.AwaitAsync(async () => (await c.SendAsync(HttpMethod.Get, $"/kv/{key}?consistency=stale")) is (200, var body) && body == $"v{k}",
                    TimeSpan.FromSeconds(30), $"node 1's own state has {key}");
            }
            var members = JsonSerializer.Deserialize<MembersDto>((await c.SendAsync(HttpMethod.Get, "/admin/members")).Body, Json)!;
            Assert.Equal([1, 2, 3], members.Servers.Where(s => s.Voter).Select(s => s.NodeId).Order());
        }
    }

    /// <summary>
    /// Across hosts a node knows only the seed addresses, not its peers' HTTP ports: it asks the seeds over Akka.Remote.
    /// The HTTP ports here are off the port plan, so an HTTP question by port arithmetic would reach nobody and the wiped
    /// node would start as a founding voter.
    /// </summary>
    [Fact]
    public async Task With_seeds_a_voter_restarted_over_a_wiped_data_directory_asks_the_seeds_over_remoting_and_refuses_to_start()
    {
        using var cluster = new ProcessCluster(3, idsMax: 9);
        int HttpPort(int id) => cluster.HttpBasePort + 5 + id;
        var seeds = Enumerable.Range(1, 3).SelectMany(i => new[] { "--seed", $"akka.tcp://distsys@127.0.0.1:{cluster.BasePort + i}" }).ToArray();
        string[] Args(int id) => ["node", "--id", $"{id}", "--nodes", "3", "--port", $"{cluster.BasePort + id}", "--http-port", $"{HttpPort(id)}",
            .. seeds, "--data-dir", cluster.DataDir, "--set", "distsys.ping.interval-ms=200"];
        for (var i = 1; i <= 3; i++) cluster.Launch(i, Args(i));
        Client.NodeClient ClientOf(int id) => new(id, HttpPort(id));
        await cluster.AwaitAsync(async () =>
        {
            for (var i = 1; i <= 3; i++)
            {
                using var c = ClientOf(i);
                if (!(await c.ReadyAsync()).Ready) return false;
            }
            return true;
        }, TestTime.Scaled(ReadyTimeout), "the three nodes joined by seeds are ready");
        // Asking the seeds left no trace: node 1 (the first seed) started as a fresh node and formed the cluster at once,
        // not through the fallback of a node that restarts over its own state (joining others first, alone after 20 s).
        Assert.Contains("starting as a founding voter", cluster.Logs(1));
        Assert.DoesNotContain("no other node answered in", cluster.Logs(1));
        using (var c = ClientOf(2))
            await cluster.AwaitAsync(async () => (await c.SendAsync(HttpMethod.Put, "/kv/seeded", new StringContent("v", Encoding.UTF8))).Code == 200,
                TimeSpan.FromSeconds(30), "a write is acknowledged");

        cluster.Kill(3);
        Directory.Delete(Path.Combine(cluster.DataDir, "node-3"), recursive: true);
        cluster.Launch(3, Args(3));
        await cluster.AwaitAsync(() => Task.FromResult(cluster.HasExited(3)), TimeSpan.FromSeconds(60), "node 3, restarted over an empty data directory, refuses to start");
        var refusal = cluster.Logs(3);
        output.WriteLine(refusal);
        Assert.Equal(1, cluster.ExitCode(3));
        // The log holds the first run's output too (remoting warnings with stack traces): read from the refusal on.
        var lines = refusal.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))
            .SkipWhile(l => !l.StartsWith("node 3: refusing", StringComparison.Ordinal))
            .Where(l => l.StartsWith("node 3: refusing", StringComparison.Ordinal) || l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.StartsWith("node 3: refusing to start: node ", lines[0]);
        Assert.Contains("knows node 3 as a member of its running cluster", lines[0]);
        // The commands that bring it back name a running node's HTTP address, as carried in its answer.
        var commands = lines.Skip(1).Select(l => l.Trim()).ToList();
        Assert.Equal(3, commands.Count);
        Assert.Matches($@" members remove 3 --endpoint http://127\.0\.0\.1:({HttpPort(1)}|{HttpPort(2)})$", commands[0]);
        Assert.Matches($@" members add 3 --endpoint http://127\.0\.0\.1:({HttpPort(1)}|{HttpPort(2)})$", commands[2]);
    }
}

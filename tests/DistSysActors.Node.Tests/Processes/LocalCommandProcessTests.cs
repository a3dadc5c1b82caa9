using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// `distsys local` as a user runs it (README, What you see): it starts three nodes, waits until they are ready and prints
/// their endpoints; a node killed with kill -9 is reported with its exit code and a restart command that works as
/// printed; SIGTERM (like Ctrl+C) stops every node it started and `local` exits 0.
/// </summary>
public sealed partial class LocalCommandProcessTests(ITestOutputHelper output)
{
    /// <summary>Past this (scaled; above the sum of the test's windows) `local` and its children are killed: nothing is left running.</summary>
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(6);

    /// <summary>`local`'s own wait for readiness (its default), stretched on a loaded machine like every test window.</summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    [GeneratedRegex(@"^started node (\d) \(pid (\d+)\), log (.+)$")]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"^  node (\d): (http://127\.0\.0\.1:(\d+))   \(status: curl \2/status\)$")]
    private static partial Regex EndpointLine();

    /// <summary>The live summary with every node Up in every node's view, e.g. "[08:34:01] n1: 3/3 up, raft leader t1 | n2: ...".</summary>
    [GeneratedRegex(@"^\[\d\d:\d\d:\d\d\] n1: 3/3 up, raft \w+ t\d+ \| n2: 3/3 up, raft \w+ t\d+ \| n3: 3/3 up, raft \w+ t\d+$")]
    private static partial Regex AllUpSummary();

    [Fact]
    public async Task Local_prints_a_ready_cluster_reports_a_killed_node_with_a_restart_command_that_works_and_stops_every_node_on_sigterm()
    {
        using var cluster = new ProcessCluster(3); // free ports and a temp data dir; `local` starts the nodes itself
        using var local = new LocalProcess(["local", "--nodes", "3", "--base-port", $"{cluster.BasePort}",
            "--http-base-port", $"{cluster.HttpBasePort}", "--data-dir", cluster.DataDir,
            "--ready-timeout", $"{TestTime.Scaled(ReadyTimeout).TotalSeconds:0}"], TestTime.Scaled(HardTimeout));
        cluster.AddLogSource("distsys local", () => local.Output);
        for (var i = 1; i <= 3; i++)
        {
            var path = Path.Combine(cluster.DataDir, $"node-{i}", "node.log");
            cluster.AddLogSource(path, () => ReadShared(path));
        }
        var watch = Stopwatch.StartNew();

        // Ready: one "started" line per node, then "cluster ready in", then each node's URL, which answers /status.
        await AwaitLineAsync(cluster, local, l => l.StartsWith("cluster ready in ", StringComparison.Ordinal), ReadyTimeout + TimeSpan.FromSeconds(30),
            "`local` prints \"cluster ready in\"");
        output.WriteLine($"cluster ready after {watch.ElapsedMilliseconds} ms");
        var pids = new Dictionary<int, int>();
        foreach (var m in local.Lines.Select(l => StartedLine().Match(l)).Where(m => m.Success))
        {
            var id = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            pids[id] = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.Equal(Path.Combine(cluster.DataDir, $"node-{id}", "node.log"), m.Groups[3].Value);
            Assert.True(File.Exists(m.Groups[3].Value), $"node {id}'s log {m.Groups[3].Value} exists");
        }
        Assert.Equal([1, 2, 3], pids.Keys.Order());
        local.KillOnDispose(pids.Values);
        var endpoints = local.Lines.Select(l => EndpointLine().Match(l)).Where(m => m.Success).ToList();
        Assert.Equal([1, 2, 3], endpoints.Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var incarnation2 = 0L;
        foreach (var m in endpoints)
        {
            var id = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.Equal(cluster.HttpBasePort + id, int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
            // `local` waited for readiness: each node is already an Up member when the line is printed.
            var status = await http.GetFromJsonAsync<DistSysActors.Node.Http.StatusDto>($"{m.Groups[2].Value}/status", Json);
            Assert.Equal((id, "Up"), (status!.NodeId, status.SelfStatus));
            if (id == 2) incarnation2 = status.Incarnation;
        }
        await AwaitLineAsync(cluster, local, AllUpSummary().IsMatch, TimeSpan.FromSeconds(30), "the summary line shows 3/3 up at every node");

        // kill -9 node 2: `local` reports its exit code (128 + SIGKILL) and how to restart it.
        using (var victim = Process.GetProcessById(pids[2])) victim.Kill();
        // The program by its absolute path and the data directory quoted: the line works pasted into a shell anywhere.
        var nodeArgs = $"'{ProcessCluster.Executable}' node --id 2 --nodes 3 --base-port {cluster.BasePort} --http-base-port {cluster.HttpBasePort} --data-dir '{cluster.DataDir}'";
        await AwaitLineAsync(cluster, local, l => l.EndsWith($"node 2 (pid {pids[2]}) EXITED with code 137; its log: {Path.Combine(cluster.DataDir, "node-2", "node.log")}",
            StringComparison.Ordinal), TimeSpan.FromSeconds(20), "`local` reports node 2's exit with code 137");
        await AwaitLineAsync(cluster, local, l => l.Contains(RestartPrefix, StringComparison.Ordinal), TimeSpan.FromSeconds(5),
            "`local` prints the command that restarts node 2");
        var command = RestartCommand(local);
        Assert.Equal(nodeArgs, command);
        var linesBefore = local.Lines.Length;

        // Run as printed, through a shell in another folder: node 2 rejoins with its journal, and `local` watches it again.
        cluster.LaunchShell(2, command, workingDirectory: Path.GetTempPath());
        watch.Restart();
        await cluster.AwaitAsync(async () =>
        {
            foreach (var id in new[] { 1, 2, 3 })
            {
                using var c = cluster.Client(id);
                if ((await c.StatusAsync()).Members.Count(m => m.Status == "Up" && m.Reachable) != 3) return false;
            }
            return true;
        }, TimeSpan.FromSeconds(90), "the restarted node 2 is an Up, reachable member at every node");
        output.WriteLine($"node 2 rejoined {watch.ElapsedMilliseconds} ms after the restart");
        // Its journal survived (a fresh one would count 1); more than one more start if load got the new process downed once.
        using (var c = cluster.Client(2)) Assert.True((await c.StatusAsync()).Incarnation > incarnation2, "node 2 recovered its journal");
        await AwaitLineAsync(cluster, local, AllUpSummary().IsMatch, TimeSpan.FromSeconds(30), "the summary line shows node 2 up again",
            from: linesBefore);

        // SIGTERM, what a service manager sends (Ctrl+C's SIGINT takes the same path): every node `local` started stops.
        Assert.Equal(0, SendSignal(local.Id, 15));
        await cluster.AwaitAsync(() => Task.FromResult(local.HasExited), TimeSpan.FromSeconds(60), "`local` exits after SIGTERM");
        output.WriteLine(local.Output);
        Assert.Equal(0, local.ExitCode);
        Assert.Contains("stopping all nodes...", local.Lines);
        foreach (var id in new[] { 1, 3 })
        {
            Assert.Contains($"node {id} stopped", local.Lines);
            Assert.True(IsGone(pids[id]), $"node {id} (pid {pids[id]}) still runs after `local` exited");
            Assert.Contains($"node {id}: leaving the cluster", ReadShared(Path.Combine(cluster.DataDir, $"node-{id}", "node.log")));
            Assert.DoesNotContain(local.Lines, l => l.Contains($"node {id} (pid {pids[id]}) EXITED", StringComparison.Ordinal));
        }
        Assert.False(cluster.HasExited(2), "the node restarted by hand is not `local`'s child and keeps running (README)");
    }

    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web);

    private const string RestartPrefix = "restart it with: ";

    /// <summary>The last restart command `local` printed.</summary>
    internal static string RestartCommand(LocalProcess local)
    {
        var printed = local.Lines.Last(l => l.Contains(RestartPrefix, StringComparison.Ordinal));
        return printed[(printed.IndexOf(RestartPrefix, StringComparison.Ordinal) + RestartPrefix.Length)..];
    }

    /// <summary>Waits until `local` prints a line that matches (among its lines from index <paramref name="from"/> on).</summary>
    internal static Task AwaitLineAsync(ProcessCluster cluster, LocalProcess local, Func<string, bool> match, TimeSpan timeout, string description, int from = 0) =>
        cluster.AwaitAsync(() =>
        {
            if (local.HasExited) throw new Xunit.Sdk.XunitException($"`local` exited with code {local.ExitCode} while waiting until {description}:\n{local.Output}");
            return Task.FromResult(local.Lines.Skip(from).Any(match));
        }, timeout, description);

    internal static bool IsGone(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.HasExited;
        }
        catch (ArgumentException) { return true; }
    }

    /// <summary>A log file another process still writes to.</summary>
    internal static string ReadShared(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new StreamReader(stream).ReadToEnd();
        }
        catch (IOException) { return ""; }
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>
    /// `distsys local` as a child process, its output collected line by line. Past the hard timeout, and on dispose, it is
    /// killed with its whole process tree, and so is every node it reported (they outlive a `local` that died first).
    /// </summary>
    internal sealed class LocalProcess : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = new();
        private readonly CancellationTokenSource _deadline;
        private readonly List<int> _nodePids = new();

        public LocalProcess(IEnumerable<string> args, TimeSpan hardTimeout)
        {
            var info = new ProcessStartInfo(ProcessCluster.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) info.ArgumentList.Add(a);
            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) _lines.Add(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) _lines.Add(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            _deadline = new CancellationTokenSource(hardTimeout);
            _deadline.Token.Register(KillAll);
        }

        public int Id => _process.Id;
        public bool HasExited => _process.HasExited;
        public int ExitCode => _process.ExitCode;
        public string[] Lines { get { lock (_lines) return [.. _lines]; } }
        public string Output => string.Join("\n", Lines);

        public void KillOnDispose(IEnumerable<int> pids) { lock (_nodePids) _nodePids.AddRange(pids); }

        private void KillAll()
        {
            try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            int[] pids;
            lock (_nodePids) pids = [.. _nodePids];
            foreach (var pid in pids)
            {
                try
                {
                    using var p = Process.GetProcessById(pid);
                    if (p.ProcessName == "distsys" && !p.HasExited) p.Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException) { }
            }
        }

        public void Dispose()
        {
            _deadline.Dispose();
            KillAll();
            _process.WaitForExit(5000);
            _process.Dispose();
        }
    }
}

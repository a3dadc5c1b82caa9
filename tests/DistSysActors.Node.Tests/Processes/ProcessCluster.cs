using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DistSysActors.Node.Client;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Real `distsys node` processes on loopback, on free ports chosen per instance (never the defaults),
/// each with its own data directory, so test classes can run beside each other and beside `distsys local`.
/// </summary>
public sealed class ProcessCluster : IDisposable
{
    private readonly Dictionary<int, Process> _processes = new();
    private readonly Dictionary<int, StringBuilder> _logs = new();

    /// <param name="idsMax">Highest node id the test will run (servers that join later, above <paramref name="nodes"/>); ports are reserved through it.</param>
    public ProcessCluster(int nodes, int idsMax = 0)
    {
        Nodes = nodes;
        (BasePort, HttpBasePort) = FreePortRanges(Math.Max(nodes, idsMax));
        DataDir = Path.Combine(Path.GetTempPath(), "distsys-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDir);
    }

    public int Nodes { get; }

    /// <summary>Arguments every node gets at each start (e.g. <c>--set distsys.kv.consensus=paxos</c>).</summary>
    public IReadOnlyList<string> NodeArgs { get; init; } = [];

    public int BasePort { get; }
    public int HttpBasePort { get; }
    public string DataDir { get; }

    public static string Executable => Path.Combine(AppContext.BaseDirectory, "distsys");

    public NodeClient Client(int id) => new(id, HttpBasePort + id);

    /// <summary>How long a CLI command may run before the test kills it and fails (scaled by the test time factor).</summary>
    public static readonly TimeSpan CliTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Runs the `distsys` CLI with <paramref name="args"/> and returns its exit code and output; a command still running
    /// after <paramref name="timeout"/> (default <see cref="CliTimeout"/>, scaled) is killed and the test fails with its output.
    /// </summary>
    /// <param name="environment">Variables set (or, when null, removed) for the command only.</param>
    public static async Task<(int Code, string Out)> RunCliAsync(IEnumerable<string> args, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var (code, stdout, stderr) = await RunCliStreamsAsync(args, timeout, environment: environment);
        return (code, stdout + stderr);
    }

    /// <summary>Like <see cref="RunCliAsync"/>, with standard output and standard error apart.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunCliStreamsAsync(IEnumerable<string> args, TimeSpan? timeout = null,
        string? fileName = null, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(fileName ?? Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value is null) info.Environment.Remove(name); else info.Environment[name] = value;
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var limit = TestTime.Scaled(timeout ?? CliTimeout);
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await p.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            throw new Xunit.Sdk.XunitException(
                $"`distsys {string.Join(' ', info.ArgumentList)}` still ran after {limit.TotalSeconds:0} s and was killed; its output:\n{await stdout}{await stderr}");
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs <paramref name="commandLine"/> — a line printed for the user to paste — through /bin/sh in <paramref name="workingDirectory"/>.</summary>
    public static async Task<(int Code, string Out)> RunShellAsync(string commandLine, string workingDirectory)
    {
        var (code, stdout, stderr) = await RunCliStreamsAsync(["-c", commandLine], fileName: "/bin/sh", workingDirectory: workingDirectory);
        return (code, stdout + stderr);
    }

    /// <summary>Runs a CLI client command against this cluster (its HTTP ports).</summary>
    public Task<(int Code, string Out)> CliAsync(params string[] args) => RunCliAsync(args.Concat(["--http-base-port", $"{HttpBasePort}"]));

    /// <summary>The node that is the Raft (or Multi-Paxos) leader now (among <paramref name="ids"/>, default 1..N), polling until one is.</summary>
    public async Task<int> LeaderAsync(IEnumerable<int>? ids = null)
    {
        var leader = 0;
        var candidates = (ids ?? Enumerable.Range(1, Nodes)).ToArray();
        await AwaitAsync(async () =>
        {
            foreach (var id in candidates)
            {
                try
                {
                    using var c = Client(id);
                    var status = await c.StatusAsync();
                    if (status.Raft is { Role: "Leader" } || status.Paxos is { Role: "Leader" }) { leader = id; return true; }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            }
            return false;
        }, TimeSpan.FromSeconds(30), "some node is the leader");
        return leader;
    }

    public void Start(int id, params string[] extraArgs) =>
        Launch(id, new[] { "node", "--id", $"{id}", "--nodes", $"{Nodes}", "--base-port", $"{BasePort}",
            "--http-base-port", $"{HttpBasePort}", "--data-dir", DataDir, "--set", "distsys.ping.interval-ms=200" }.Concat(NodeArgs).Concat(extraArgs));

    /// <summary>Runs `distsys <paramref name="args"/>` as node <paramref name="id"/> (e.g. a command some output told the user to run).</summary>
    public void Launch(int id, IEnumerable<string> args, string? fileName = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName ?? Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var a in args) info.ArgumentList.Add(a);
        var log = _logs.TryGetValue(id, out var l) ? l : _logs[id] = new StringBuilder();
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes[id] = process;
    }

    /// <summary>
    /// Runs <paramref name="commandLine"/> — a line printed for the user to paste — through /bin/sh in
    /// <paramref name="workingDirectory"/>, as node <paramref name="id"/> (exec: the process is the command itself).
    /// </summary>
    public void LaunchShell(int id, string commandLine, string workingDirectory) =>
        Launch(id, ["-c", "exec " + commandLine], fileName: "/bin/sh", workingDirectory: workingDirectory);

    public void StartAll()
    {
        for (var i = 1; i <= Nodes; i++) Start(i);
    }

    /// <summary>SIGKILL: the process gets no chance to leave the cluster or flush anything.</summary>
    public void Kill(int id)
    {
        var process = _processes[id];
        process.Kill();
        process.WaitForExit((int)TestTime.Scaled(TimeSpan.FromSeconds(10)).TotalMilliseconds);
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>SIGTERM: the node shuts down gracefully (hands Raft leadership away, leaves the cluster); waits for it to exit.</summary>
    public void Terminate(int id)
    {
        var process = _processes[id];
        if (process.HasExited) return;
        SendSignal(process.Id, 15);
        var limit = TestTime.Scaled(TimeSpan.FromSeconds(30));
        if (!process.WaitForExit(limit)) throw new Xunit.Sdk.XunitException($"node {id} did not exit within {limit.TotalSeconds:0} s of SIGTERM");
    }

    /// <summary>Sends SIGTERM and returns at once (the caller watches what happens meanwhile).</summary>
    public Process SignalTerminate(int id)
    {
        var process = _processes[id];
        SendSignal(process.Id, 15);
        return process;
    }

    public bool HasExited(int id) => _processes[id].HasExited;

    /// <summary>SIGSTOP: node <paramref name="id"/> freezes (as in a long GC pause) until <see cref="Resume"/>; its sockets stay open.</summary>
    public void Pause(int id) => Assert.Equal(0, SendSignal(_processes[id].Id, 19));

    /// <summary>SIGCONT: a paused node runs on from where it stopped.</summary>
    public void Resume(int id) => Assert.Equal(0, SendSignal(_processes[id].Id, 18));

    /// <summary>The exit code of node <paramref name="id"/>'s process, which has exited.</summary>
    public int ExitCode(int id) => _processes[id].ExitCode;

    /// <summary>Starts again every node that was started before and has exited since (a test that failed after a kill).</summary>
    public void RestartExited()
    {
        foreach (var id in _processes.Keys.Order().ToArray())
            if (_processes[id].HasExited) Start(id);
    }

    /// <summary>Heals faults on every running node, so a test starts on a clean network whatever the one before left.</summary>
    public async Task HealAllAsync()
    {
        foreach (var id in _processes.Keys.Order().Where(i => !_processes[i].HasExited))
        {
            using var client = Client(id);
            await AwaitAsync(async () => (await client.SendAsync(HttpMethod.Delete, "/admin/faults")).Code == 200,
                TimeSpan.FromSeconds(60), $"node {id} accepts DELETE /admin/faults");
        }
    }

    public string Logs(int id) { lock (_logs[id]) return _logs[id].ToString(); }

    private readonly List<(string Name, Func<string> Text)> _logSources = new();

    /// <summary>Another output to show the tail of when an await times out (a process this class did not start, a log file).</summary>
    public void AddLogSource(string name, Func<string> text) { lock (_logSources) _logSources.Add((name, text)); }

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; fails with the description and the node logs' tails otherwise.
    /// <paramref name="timeout"/> is scaled by the test time factor.
    /// </summary>
    public async Task AwaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string description)
    {
        timeout = TestTime.Scaled(timeout);
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (watch.Elapsed < timeout)
        {
            // An error is reported only while it lasts: a later poll that answers (not yet true) clears it.
            try { if (await condition()) return; last = null; }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException) { last = e; }
            await Task.Delay(200);
        }
        (string Name, Func<string> Text)[] sources;
        lock (_logSources) sources = [.. _logSources];
        var tails = string.Join("\n", _logs.Keys.Order().Select(i => $"--- node {i} ---\n{Tail(Logs(i), 15)}")
            .Concat(sources.Select(s => $"--- {s.Name} ---\n{Tail(s.Text(), 15)}")));
        throw new Xunit.Sdk.XunitException($"timed out after {timeout.TotalSeconds:0} s waiting until {description} (last error: {last?.Message})\n{tails}");
    }

    public async Task<bool> AllReadyAsync()
    {
        for (var i = 1; i <= Nodes; i++)
        {
            using var c = Client(i);
            if (!(await c.ReadyAsync()).Ready) return false;
        }
        return true;
    }

    private static string Tail(string text, int lines) => string.Join("\n", text.Split('\n').TakeLast(lines));

    /// <summary>A base port below the ephemeral range with base + 1 .. base + <paramref name="ids"/> free now.</summary>
    public static int FreePortBase(int ids)
    {
        var random = new Random();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var basePort = random.Next(10_000, 32_000);
            if (Enumerable.Range(1, ids).All(i => IsFree(basePort + i))) return basePort;
        }
        throw new InvalidOperationException("no free port range found");
    }

    private static (int Base, int HttpBase) FreePortRanges(int nodes)
    {
        var random = new Random();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            // Below Linux's ephemeral range (32768+): a port checked free now must not be taken by an outgoing
            // connection before a node that starts later (a joining server) binds it.
            var basePort = random.Next(10_000, 20_000);
            var httpBase = random.Next(20_000, 32_000);
            if (Enumerable.Range(1, nodes).All(i => IsFree(basePort + i) && IsFree(httpBase + i))) return (basePort, httpBase);
        }
        throw new InvalidOperationException("no free port range found");
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException) { return false; }
    }

    public void Dispose()
    {
        foreach (var p in _processes.Values)
        {
            try { if (!p.HasExited) { p.Kill(); p.WaitForExit(5000); } } catch (InvalidOperationException) { }
            p.Dispose();
        }
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}

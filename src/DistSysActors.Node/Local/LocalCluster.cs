using System.Diagnostics;
using System.Runtime.InteropServices;
using DistSysActors.Node.Client;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Local;

/// <summary>
/// Starts N `distsys node` child processes of this executable on localhost, waits until every one is
/// ready, reports their endpoints and a live one-line summary, reports any child that exits, and stops
/// them all (SIGTERM, so they leave the cluster gracefully) when asked. The data directory is made absolute at once,
/// so the children, the log paths and the restart commands it prints name the same folder from anywhere.
/// </summary>
public sealed partial class LocalCluster(int nodes, int basePort, int httpBasePort, string dataDir, IReadOnlyList<string> extraArgs) : IAsyncDisposable
{
    /// <summary>The absolute data directory; node I keeps its data under DataDir/node-I.</summary>
    public string DataDir { get; } = Path.GetFullPath(dataDir);

    private readonly Dictionary<int, Process> _children = new();
    private readonly TextWriter _out = Console.Out;

    public static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(90);

    /// <summary>How long <see cref="WaitReadyAsync"/> waits for every node to be ready.</summary>
    public TimeSpan ReadyTimeout { get; init; } = DefaultReadyTimeout;

    /// <summary>How to start this very program again: its apphost, or `dotnet distsys.dll`.</summary>
    public static (string FileName, List<string> Prefix) SelfCommand()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
            return (process, [typeof(LocalCluster).Assembly.Location]);
        return (process, []);
    }

    public IReadOnlyList<string> NodeArgs(int id) =>
    [
        "node", "--id", id.ToString(), "--nodes", nodes.ToString(), "--base-port", basePort.ToString(),
        "--http-base-port", httpBasePort.ToString(), "--data-dir", DataDir, .. extraArgs, .. NodeExtraArgs?.Invoke(id) ?? [],
    ];

    /// <summary>Arguments for one node only (e.g. a clock skew per node), after those every node gets.</summary>
    public Func<int, IReadOnlyList<string>>? NodeExtraArgs { get; init; }

    /// <summary>The shell command that starts node <paramref name="id"/> again as this cluster started it, from any folder.</summary>
    public string RestartCommand(int id) => ShellCommand.Self(NodeArgs(id));

    public void Start()
    {
        // Node 1 is the first seed; starting it first lets the others join it at once.
        for (var id = 1; id <= nodes; id++) StartNode(id);
    }

    /// <summary>Starts (or restarts, after it exited) node <paramref name="id"/> with the cluster's arguments.</summary>
    public void StartNode(int id)
    {
        var (file, prefix) = SelfCommand();
        var logPath = Path.Combine(DataDir, $"node-{id}", "node.log");
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(NodeArgs(id))) info.ArgumentList.Add(a);
        if (LauncherUrl is not null) info.Environment[Dashboard.Launchers.EnvironmentVariable] = LauncherUrl;
        var child = Process.Start(info) ?? throw new InvalidOperationException($"could not start node {id}");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        child.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        child.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        child.EnableRaisingEvents = true;
        child.Exited += (_, _) =>
        {
            if (_stopping || _expectedExits.Contains(child.Id)) return;
            _out.WriteLine($"[{DateTime.Now:HH:mm:ss}] node {id} (pid {child.Id}) EXITED with code {child.ExitCode}; its log: {logPath}");
            _out.WriteLine($"           restart it with: {RestartCommand(id)}");
        };
        lock (_control)
        {
            if (_children.TryGetValue(id, out var old)) old.Dispose();
            _children[id] = child;
        }
        if (!Quiet) _out.WriteLine($"started node {id} (pid {child.Id}), log {logPath}");
    }

    /// <summary>Whether to keep quiet about starts (the benchmark restarts nodes many times).</summary>
    public bool Quiet { get; set; }

    private readonly HashSet<int> _expectedExits = new();

    /// <summary>SIGKILL node <paramref name="id"/>: a crash, without leaving the cluster.</summary>
    public void Kill(int id)
    {
        var child = _children[id];
        _expectedExits.Add(child.Id);
        child.Kill();
        child.WaitForExit(10_000);
    }

    private volatile bool _stopping;

    /// <summary>Waits until every node answers /health/ready with 200, or a child exits, or the timeout passes.</summary>
    public async Task<bool> WaitReadyAsync(CancellationToken ct)
    {
        var clients = Enumerable.Range(1, nodes).Select(i => new NodeClient(i, httpBasePort + i)).ToList();
        var deadline = DateTime.UtcNow + ReadyTimeout;
        try
        {
            var ready = new bool[nodes + 1];
            while (DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            {
                foreach (var c in clients.Where(c => !ready[c.NodeId]))
                {
                    if (_children[c.NodeId].HasExited) return false;
                    try { ready[c.NodeId] = (await c.ReadyAsync(ct)).Ready; }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                }
                if (ready.Skip(1).All(r => r)) return true;
                await Task.Delay(250, ct);
            }
            return false;
        }
        finally { clients.ForEach(c => c.Dispose()); }
    }

    /// <summary>Prints a one-line summary whenever it changes, until cancelled.</summary>
    public async Task WatchAsync(CancellationToken ct)
    {
        var clients = Enumerable.Range(1, nodes).Select(i => new NodeClient(i, httpBasePort + i)).ToList();
        string? last = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var line = await SummaryAsync(clients, ct);
                if (line != last) { _out.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}"); last = line; }
                await Task.Delay(1000, ct);
            }
        }
        catch (OperationCanceledException) { }
        finally { clients.ForEach(c => c.Dispose()); }
    }

    private async Task<string> SummaryAsync(List<NodeClient> clients, CancellationToken ct)
    {
        var parts = new List<string>();
        foreach (var c in clients)
        {
            try
            {
                var s = await c.StatusAsync(ct);
                var up = s.Members.Count(m => m.Status == "Up");
                var unreachable = s.Members.Where(m => !m.Reachable).Select(m => m.NodeId?.ToString() ?? "?").ToList();
                parts.Add($"n{c.NodeId}: {up}/{nodes} up" + (unreachable.Count > 0 ? $", unreachable {string.Join(",", unreachable)}" : "")
                          + (s.Raft is { } r ? $", raft {r.Role.ToLowerInvariant()} t{r.Term}" : "")
                          + (StatusCommand.Describe(s.Network.Faults) is var f && f != "none" ? $" [{f}]" : ""));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                // Asked even after our child exited: the user may have restarted it with the printed command.
                parts.Add(_children[c.NodeId].HasExited ? $"n{c.NodeId}: exited" : $"n{c.NodeId}: no answer");
            }
        }
        return string.Join(" | ", parts);
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    private const int Sigterm = 15;

    /// <summary>SIGTERM to every child (each leaves the cluster), then SIGKILL to any still running after the grace period.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        foreach (var (_, child) in _children.Where(c => !c.Value.HasExited)) SendSignal(child.Id, Sigterm);
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        foreach (var (id, child) in _children)
        {
            try { await child.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException)
            {
                _out.WriteLine($"node {id} did not stop in time; killing it");
                child.Kill();
            }
            _out.WriteLine($"node {id} stopped");
            child.Dispose();
        }
    }
}

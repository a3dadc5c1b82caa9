using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using DistSysActors.Actors.Configuration;

namespace DistSysActors.Dashboard.Tests;

/// <summary>
/// `distsys local` as a user runs it, on free ports and a temporary data directory: its output lines, the dashboard URL
/// it prints, and a stop that leaves nothing running (SIGTERM, then SIGKILL of it and of every node it started).
/// </summary>
public sealed partial class LocalLauncherProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly HashSet<int> _nodePids = [];

    public static double TimeFactor { get; } = DistSysConfig.TestTimeFactor;
    public static TimeSpan Scaled(TimeSpan window) => window * TimeFactor;

    public static string Executable => Path.Combine(AppContext.BaseDirectory, "distsys");

    [GeneratedRegex(@"^started node (\d+) \(pid (\d+)\)")]
    private static partial Regex StartedLine();

    public LocalLauncherProcess(int nodes, params string[] extraArgs)
    {
        (BasePort, HttpBasePort) = FreePorts(nodes);
        DataDir = Path.Combine(Path.GetTempPath(), "distsys-tests", Guid.NewGuid().ToString("N"));
        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "local", "--nodes", $"{nodes}", "--base-port", $"{BasePort}", "--http-base-port", $"{HttpBasePort}",
                     "--data-dir", DataDir, "--ready-timeout", $"{Scaled(TimeSpan.FromSeconds(90)).TotalSeconds:0}" }.Concat(extraArgs))
            info.ArgumentList.Add(a);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int BasePort { get; }
    public int HttpBasePort { get; }
    public string DataDir { get; }
    public int Pid => _process.Id;

    public string Output { get { lock (_lines) return string.Join('\n', _lines); } }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_lines)
        {
            _lines.Add(line);
            if (StartedLine().Match(line) is { Success: true } m) _nodePids.Add(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The first output line that <paramref name="match"/> accepts, awaited until <paramref name="timeout"/> (scaled).</summary>
    public async Task<string> AwaitLineAsync(Func<string, bool> match, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + Scaled(timeout);
        while (DateTime.UtcNow < deadline)
        {
            lock (_lines)
                if (_lines.FirstOrDefault(match) is { } line) return line;
            if (_process.HasExited) break;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"`distsys local` did not print {what} within {Scaled(timeout).TotalSeconds:0} s{(_process.HasExited ? $" (it exited with {_process.ExitCode})" : "")}; its output:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = SendSignal(_process.Id, 15);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await _process.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        }
        int[] pids;
        lock (_lines) pids = [.. _nodePids];
        foreach (var pid in pids)
        {
            try { using var p = Process.GetProcessById(pid); if (!p.HasExited) p.Kill(); }
            catch (ArgumentException) { }
            catch (InvalidOperationException) { }
        }
        _process.Dispose();
        try { Directory.Delete(DataDir, recursive: true); }
        catch (IOException) { }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    private static (int Base, int HttpBase) FreePorts(int nodes)
    {
        var random = new Random();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var basePort = random.Next(10_000, 20_000);
            var httpBase = random.Next(20_000, 32_000);
            // http-base-port + 0 is the launcher's dashboard.
            if (Enumerable.Range(1, nodes).All(i => IsFree(basePort + i)) && Enumerable.Range(0, nodes + 1).All(i => IsFree(httpBase + i)))
                return (basePort, httpBase);
        }
        throw new InvalidOperationException("no free port range found");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException) { return false; }
    }
}

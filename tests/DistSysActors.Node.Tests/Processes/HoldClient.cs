using System.Diagnostics;
using System.Text;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>A `distsys election hold` client process: lines go to its standard input, its output is collected, and it can be paused with SIGSTOP.</summary>
public sealed class HoldClient : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<string> _lines = [];
    // Completed (and replaced) at every new output line or at the end of output: what a waiting reader awaits.
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _ended;

    private HoldClient(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            TaskCompletionSource changed;
            lock (_lines)
            {
                if (e.Data is { } l) { _lines.Add(l); _output.AppendLine(l); }
                else _ended = true;
                (changed, _changed) = (_changed, new(TaskCreationOptions.RunContinuationsAsynchronously));
            }
            changed.TrySetResult(); // e.Data null: the output ended (the process exited)
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (_lines) _output.AppendLine(l); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static HoldClient Start(ProcessCluster cluster, string name, string candidate, long ttlMs, string key, bool unfenced)
    {
        var info = new ProcessStartInfo(ProcessCluster.Executable)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "election", "hold", name, "--candidate", candidate, "--ttl-ms", $"{ttlMs}", "--key", key, "--node", "1",
                     "--http-base-port", $"{cluster.HttpBasePort}" })
            info.ArgumentList.Add(a);
        if (unfenced) info.ArgumentList.Add("--unfenced");
        return new HoldClient(Process.Start(info)!);
    }

    public string Output() { lock (_lines) return _output.ToString(); }

    public void Write(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>SIGSTOP: the process is frozen (no renewals, no writes) until <see cref="Resume"/>.</summary>
    public void Pause() => Assert.Equal(0, SendSignal(_process.Id, 19));

    /// <summary>SIGCONT.</summary>
    public void Resume() => Assert.Equal(0, SendSignal(_process.Id, 18));

    /// <summary>The first output line that matches, waiting for it (scaled by the test time factor).</summary>
    public async Task<string> AwaitLineAsync(Func<string, bool> match, string description)
    {
        using var deadline = new CancellationTokenSource(TestTime.Scaled(TimeSpan.FromSeconds(30)));
        try
        {
            while (true)
            {
                Task changed;
                lock (_lines)
                {
                    if (_lines.FirstOrDefault(match) is { } line) return line;
                    if (_ended) break;
                    changed = _changed.Task;
                }
                await changed.WaitAsync(deadline.Token);
            }
        }
        catch (OperationCanceledException) { }
        throw new Xunit.Sdk.XunitException($"the holder did not print a line where {description}:\n{Output()}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Resume();
                _process.Kill();
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}

namespace DistSysActors.Node.Local;

/// <summary>The launcher's controls for the dashboard: which node processes run, kill -9 one, restart one.</summary>
public sealed partial class LocalCluster
{
    private readonly object _control = new();

    /// <summary>The launcher's dashboard URL, given to each node started after it is set (so a node's page can ask it to kill or restart).</summary>
    public string? LauncherUrl { get; set; }

    public int NodeCount => nodes;
    public int HttpBasePort => httpBasePort;

    public sealed record ProcessInfo(int Id, int Pid, bool Running);

    public IReadOnlyList<ProcessInfo> Processes()
    {
        lock (_control)
            return _children.OrderBy(c => c.Key).Select(c => new ProcessInfo(c.Key, SafePid(c.Value), !c.Value.HasExited)).ToList();
    }

    private static int SafePid(System.Diagnostics.Process p)
    {
        try { return p.Id; }
        catch (InvalidOperationException) { return 0; }
    }

    /// <summary>kill -9 node <paramref name="id"/> (a crash: it does not leave the cluster); says what it did or why not.</summary>
    public (bool Ok, string Message) TryKill(int id)
    {
        lock (_control)
        {
            if (!_children.TryGetValue(id, out var child)) return (false, $"node {id} is not one of the nodes this launcher started (1..{nodes})");
            if (child.HasExited) return (false, $"node {id} is not running (it exited with code {child.ExitCode}); restart it");
            var pid = child.Id;
            Kill(id);
            _out.WriteLine($"[{DateTime.Now:HH:mm:ss}] node {id} (pid {pid}) killed with SIGKILL from the dashboard");
            return (true, $"node {id} (pid {pid}) killed with SIGKILL");
        }
    }

    /// <summary>Starts node <paramref name="id"/> again with the cluster's arguments (it recovers its state from disk).</summary>
    public (bool Ok, string Message) TryRestart(int id)
    {
        lock (_control)
        {
            if (!_children.TryGetValue(id, out var child)) return (false, $"node {id} is not one of the nodes this launcher started (1..{nodes})");
            if (!child.HasExited) return (false, $"node {id} is running (pid {child.Id}); kill it first");
            try { StartNode(id); }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return (false, $"node {id} could not be started: {e.Message}");
            }
            return (true, $"node {id} restarted (pid {_children[id].Id}); it recovers its state from disk and rejoins");
        }
    }
}

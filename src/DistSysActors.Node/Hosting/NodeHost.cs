using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Raft;
using DistSysActors.Core.Network;

namespace DistSysActors.Node.Hosting;

/// <summary>
/// Keeps one node's actor system running for the life of the `distsys node` process. When Akka.Cluster
/// downs the node (the minority side of a partition), the system terminates; with
/// distsys.node.rejoin-when-downed the host starts a new one that rejoins once the partition heals,
/// re-installing the current fault spec so the partition stays in force until healed.
/// </summary>
public sealed class NodeHost : IAsyncDisposable
{
    private readonly Config _distsys;
    private readonly object _gate = new();
    private volatile DistSysNodeRuntime? _runtime;
    private FaultSpec _faults = FaultSpec.None;
    private volatile bool _stopping;
    private int _restarts;

    public NodeHost(Config distsys)
    {
        _distsys = distsys.WithFallback(DistSysConfig.NodeOverlay).WithFallback(DistSysConfig.Reference);
        Node = NodeSettings.Create(_distsys);
        Settings = HostSettings.Create(_distsys);
    }

    public NodeSettings Node { get; }
    public HostSettings Settings { get; }

    /// <summary>The running runtime, or null while the actor system restarts.</summary>
    public DistSysNodeRuntime? Runtime => _runtime;

    /// <summary>How many times the actor system was restarted after being downed.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>
    /// Starts the node. A node that has persisted state was part of a cluster before: it joins the other nodes
    /// rather than itself (the first seed joining itself after a restart would form a second cluster beside the
    /// running one). Only if nobody answers within distsys.node.self-join-after-ms does node 1 form a new cluster,
    /// as when a whole cluster restarts over its old data.
    /// </summary>
    /// A joining server (distsys.node.join) always joins the others.
    public void Start()
    {
        var hadState = Settings.DurableJournal && File.Exists(Path.Combine(Node.NodeDataDir, Settings.SqliteFile));
        StartRuntime(rejoining: hadState || Node.Join);
        if (hadState && Node.Id == 1 && !Node.Join) _ = SelfJoinIfAloneAsync(_runtime!);
        if (Settings.DurableJournal) _ = RecordKnownMembersAsync();
    }

    private async Task SelfJoinIfAloneAsync(DistSysNodeRuntime runtime)
    {
        var cluster = Akka.Cluster.Cluster.Get(runtime.System);
        await Task.Delay(TimeSpan.FromMilliseconds(Node.SelfJoinAfterMs));
        if (ReferenceEquals(_runtime, runtime) && !cluster.State.Members.Any(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress)))
        {
            Console.Error.WriteLine($"node {Node.Id}: no other node answered in {Node.SelfJoinAfterMs} ms; forming a new cluster");
            cluster.Join(cluster.SelfAddress);
        }
    }

    /// <summary>
    /// Installs a fault spec on this node's network component and remembers it across restarts. A valid spec that
    /// arrives while the actor system restarts (downed by the cluster) is remembered and installed by the new system,
    /// so a heal is never lost to a restart: then the answer is <see cref="FaultsPending"/>.
    /// </summary>
    public async Task<object> ApplyFaultsAsync(FaultSpec spec, TimeSpan timeout)
    {
        if (spec.Validate() is { Count: > 0 } errors) return new NetworkProtocol.FaultsRejected(errors);
        DistSysNodeRuntime? runtime;
        lock (_gate) runtime = _runtime;
        if (runtime is null)
        {
            Remember(spec, appliedTo: null);
            return new FaultsPending(spec);
        }
        object answer;
        try
        {
            answer = await runtime.Network.Ask<object>(new NetworkProtocol.SetFaults(spec), timeout);
        }
        catch (Exception) when (Akka.Cluster.Cluster.Get(runtime.System).IsTerminated || !ReferenceEquals(_runtime, runtime))
        {
            // The system was being downed as the spec arrived: the next one installs it.
            Remember(spec, appliedTo: null);
            return new FaultsPending(spec);
        }
        if (answer is NetworkProtocol.FaultsApplied) Remember(spec, appliedTo: runtime);
        return answer;
    }

    /// <summary>Records <paramref name="spec"/> for the next actor system and gives it to a current one it was not applied to.</summary>
    private void Remember(FaultSpec spec, DistSysNodeRuntime? appliedTo)
    {
        DistSysNodeRuntime? now;
        lock (_gate) { _faults = spec; now = _runtime; }
        if (now is not null && !ReferenceEquals(now, appliedTo)) now.Network.Tell(new NetworkProtocol.SetFaults(spec));
    }

    /// <summary>Ids of the Akka.Cluster members this node last saw Up, kept under its data dir: seeds for its next start.</summary>
    public string KnownMembersPath => Path.Combine(Node.NodeDataDir, "known-members");

    /// <summary>How often the Up members are compared with <see cref="KnownMembersPath"/> (written only when they changed).</summary>
    public static readonly TimeSpan KnownMembersInterval = TimeSpan.FromSeconds(1);

    private IReadOnlyList<int> ReadKnownMembers()
    {
        try
        {
            return File.ReadAllText(KnownMembersPath).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(t => int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : 0)
                .Where(NodeSettings.InPortPlan).Distinct().Order().ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    /// <summary>Records the Up members' ids whenever they change, so a restart can find a cluster whose founding nodes were removed.</summary>
    private async Task RecordKnownMembersAsync()
    {
        var last = string.Join(",", ReadKnownMembers());
        while (!_stopping)
        {
            await Task.Delay(KnownMembersInterval);
            if (_runtime is not { } runtime) continue;
            var state = Akka.Cluster.Cluster.Get(runtime.System).State;
            var ids = string.Join(",", state.Members.Where(m => m.Status == Akka.Cluster.MemberStatus.Up)
                .SelectMany(m => m.Roles).Select(r => r.StartsWith("node-", StringComparison.Ordinal) && int.TryParse(r.AsSpan(5), out var id) ? id : 0)
                .Where(NodeSettings.InPortPlan).Distinct().Order());
            if (ids.Length == 0 || ids == last) continue;
            try
            {
                Directory.CreateDirectory(Node.NodeDataDir);
                var temp = KnownMembersPath + ".tmp";
                await File.WriteAllTextAsync(temp, ids);
                File.Move(temp, KnownMembersPath, overwrite: true);
                last = ids;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"node {Node.Id}: could not record the known members in {KnownMembersPath}: {e.Message}");
            }
        }
    }

    private void StartRuntime(bool rejoining)
    {
        FaultSpec faults;
        lock (_gate) faults = _faults;
        var config = DistSysNodeRuntime.NodeConfig(_distsys, joinOthersOnly: rejoining, knownMembers: rejoining ? ReadKnownMembers() : null);
        var runtime = DistSysNodeRuntime.Start(config, faults: faults.IsNone ? null : faults);
        FaultSpec latest;
        lock (_gate) { _runtime = runtime; latest = _faults; }
        // A spec that arrived while this system was starting (a heal during a restart) replaces the one it started with.
        if (!Equals(latest, faults)) runtime.Network.Tell(new NetworkProtocol.SetFaults(latest));
        runtime.System.WhenTerminated.ContinueWith(_ => OnTerminated(runtime), TaskScheduler.Default);
    }

    private void OnTerminated(DistSysNodeRuntime runtime)
    {
        lock (_gate)
        {
            if (_stopping || !Node.RejoinWhenDowned || !ReferenceEquals(_runtime, runtime)) return;
            _runtime = null;
        }
        Console.Error.WriteLine($"node {Node.Id}: actor system stopped (downed by the cluster); restarting to rejoin");
        Interlocked.Increment(ref _restarts);
        for (var attempt = 1; ; attempt++)
        {
            try { StartRuntime(rejoining: true); return; }
            catch (Exception e) when (attempt < 10)
            {
                Console.Error.WriteLine($"node {Node.Id}: restart attempt {attempt} failed: {e.Message}");
                Thread.Sleep(TimeSpan.FromSeconds(1)); // the old system's port may take a moment to free
            }
        }
    }

    /// <summary>
    /// When this node leads Raft, hands leadership to the most up-to-date voter (dissertation 3.10), waiting at most
    /// distsys.node.shutdown-transfer-timeout-ms, so the others need not wait out an election timeout once it is gone.
    /// Returns what happened, in words, or null when there was nothing to do.
    /// </summary>
    public async Task<string?> TransferLeadershipAwayAsync()
    {
        if (_runtime?.Raft is not { } raft || Node.ShutdownTransferTimeoutMs == 0) return null;
        var timeout = TimeSpan.FromMilliseconds(Node.ShutdownTransferTimeoutMs);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var status = await raft.Ask<RaftProtocol.NodeStatus>(RaftProtocol.GetStatus.Instance, timeout);
            if (status.Raft.Role != Core.Raft.RaftRole.Leader) return null;
            return await raft.Ask<object>(new RaftProtocol.TransferLeadership(null), timeout - watch.Elapsed) switch
            {
                RaftProtocol.TransferDone done => $"handed Raft leadership to node {done.LeaderId} (term {done.Term}) in {watch.ElapsedMilliseconds} ms",
                RaftProtocol.NotLeader => null,
                var other => $"Raft leadership transfer failed ({other}); the others elect a new leader after their election timeout",
            };
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or ArgumentOutOfRangeException)
        {
            return $"Raft leadership transfer did not finish in {Node.ShutdownTransferTimeoutMs} ms; the others elect a new leader after their election timeout";
        }
    }

    /// <summary>Leaves the cluster gracefully and stops the actor system.</summary>
    public async ValueTask DisposeAsync()
    {
        DistSysNodeRuntime? runtime;
        lock (_gate) { _stopping = true; runtime = _runtime; }
        if (runtime is null) return;
        await CoordinatedShutdown.Get(runtime.System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        await runtime.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(15));
    }
}

/// <summary>A fault spec accepted while the node restarts its actor system: the new system installs it.</summary>
public sealed record FaultsPending(Core.Network.FaultSpec Spec);

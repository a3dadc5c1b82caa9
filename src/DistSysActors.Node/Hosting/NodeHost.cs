using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Raft;
using DistSysActors.Core.Network;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Node.Hosting;

/// <summary>
/// Keeps one node's actor system running for the life of the `distsys node` process. When Akka.Cluster
/// downs the node (the minority side of a partition), the system terminates; with
/// distsys.node.rejoin-when-downed the host starts a new one that rejoins once the partition heals,
/// re-installing the current fault spec so the partition stays in force until healed. Any other end of the actor
/// system — a shutdown the process asked for (SIGTERM, Ctrl+C, <see cref="DisposeAsync"/>, Akka's own SIGTERM hook) —
/// never restarts it: <see cref="Stopped"/> completes and the process exits.
/// </summary>
public sealed class NodeHost : IAsyncDisposable
{
    private readonly Config _distsys;
    private readonly object _gate = new();
    private volatile DistSysNodeRuntime? _runtime;
    private FaultSpec _faults = FaultSpec.None;
    private volatile bool _stopping;
    private volatile bool _disposing;
    private int _restarts;
    private readonly TaskCompletionSource<StopCause> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NodeHost(Config distsys)
    {
        _distsys = distsys.WithFallback(DistSysConfig.NodeOverlay).WithFallback(DistSysConfig.Reference);
        Node = NodeSettings.Create(_distsys);
        Settings = HostSettings.Create(_distsys);
        _peerClient = new Lazy<HttpClient>(() => Http.PeerHttp.Client(this, Timeout.InfiniteTimeSpan));
        _seen.UnionWith(ReadIds(SeenMembersPath));
    }

    public NodeSettings Node { get; }
    /// <summary>The node's whole distsys configuration (command line, overlay, reference).</summary>
    public Config Config => _distsys;
    public HostSettings Settings { get; }

    /// <summary>The distsys.http settings (bind address, tokens, request bounds), read once.</summary>
    public Http.HttpSettings HttpSettings => _httpSettings ??= Http.HttpSettings.Create(_distsys);
    private Http.HttpSettings? _httpSettings;

    /// <summary>
    /// The one client this node asks its peers' HTTP APIs with (merged logs, proxied transaction reads): it presents this
    /// node's tokens and keeps its connections; each request brings its own deadline.
    /// </summary>
    public HttpClient PeerClient => _peerClient.Value;
    private readonly Lazy<HttpClient> _peerClient;

    /// <summary>The HTTP base address other nodes reach this one at: what its role <c>http=URL</c> carries.</summary>
    public string HttpUrl => NodeRoles.HttpUrl(Node, _distsys);

    /// <summary>The running runtime, or null while the actor system restarts.</summary>
    public DistSysNodeRuntime? Runtime => _runtime;

    /// <summary>How many times the actor system was restarted after being downed.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>
    /// Completes when the actor system has stopped for good without <see cref="DisposeAsync"/> being called: a shutdown
    /// the process asked for through Akka's own hook (Akka registers SIGTERM and process exit), or being downed with
    /// distsys.node.rejoin-when-downed off. The process should then exit too.
    /// </summary>
    public Task<StopCause> Stopped => _stopped.Task;

    /// <summary>Why the actor system stopped for good: <c>Requested</c> when the process asked for it; the message says why, in words.</summary>
    public sealed record StopCause(bool Requested, string Message);

    /// <summary>
    /// Starts the node. A node that has persisted state was part of a cluster before: it joins the other nodes
    /// rather than itself (the first seed joining itself after a restart would form a second cluster beside the
    /// running one). Only if nobody answers within distsys.node.self-join-after-ms does node 1 form a new cluster,
    /// as when a whole cluster restarts over its old data. Call <see cref="CheckForLostStateAsync"/> first.
    /// </summary>
    /// A joining server (distsys.node.join) always joins the others.
    public void Start()
    {
        var hadState = HasPersistedState;
        StartRuntime(rejoining: hadState || Node.Join);
        if (hadState && DistSysNodeRuntime.IsFirstSeed(_distsys) && !Node.Join) _ = SelfJoinIfAloneAsync(_runtime!);
        if (Settings.DurableJournal) WriteStateMarker();
        _ = RecordMembersAsync();
    }

    /// <summary>The node's SQLite journal: its Raft term, vote, log and snapshots.</summary>
    public string JournalPath => Path.Combine(Node.NodeDataDir, Settings.SqliteFile);

    /// <summary>Whether this node kept durable state before: its journal exists (always false on the in-memory journal).</summary>
    /// On PostgreSQL the state lives in the database: the <see cref="StateMarkerFile"/> written at the node's first start says it has some.
    public bool HasPersistedState => Settings.FileJournal ? File.Exists(JournalPath) : Settings.DurableJournal && File.Exists(StateMarkerPath);

    /// <summary>
    /// Written beside the journal at the node's first start: a data directory that has it but not the journal lost its
    /// journal (<see cref="CheckForLostStateAsync"/>).
    /// </summary>
    public const string StateMarkerFile = "raft-state-marker";

    public string StateMarkerPath => Path.Combine(Node.NodeDataDir, StateMarkerFile);

    private void WriteStateMarker()
    {
        if (File.Exists(StateMarkerPath)) return;
        try
        {
            WriteAtomically(StateMarkerPath, !Settings.FileJournal
                ? $"Node {Node.Id} keeps its Raft state (term, vote, log, snapshots) in PostgreSQL (distsys.persistence.journal = {Settings.Journal}).\n"
                : $"Node {Node.Id} keeps its Raft state (term, vote, log, snapshots) in {Settings.SqliteFile} in this directory. " +
                                             $"A node that finds this file without {Settings.SqliteFile} refuses to start: its journal was lost.\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"node {Node.Id}: could not write {StateMarkerPath}: {e.Message}");
        }
    }

    /// <summary>
    /// Why this node must not start as it is, whether the running cluster still counts it as a Raft member, and a node
    /// of that cluster to send membership changes to (one that answered, else the lowest other founding id).
    /// </summary>
    /// <param name="ViaHttp">That node's HTTP base address, when it answered (across hosts, where the CLI is pointed at it).</param>
    public sealed record LostState(string Reason, bool StillMember, int Via, string? ViaHttp = null);

    /// <summary>How long a peer may take to answer <see cref="CheckForLostStateAsync"/>'s question.</summary>
    public static readonly TimeSpan LostStateProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A node with no Raft state (no journal: a first start, or a lost disk) must learn, before it can vote, whether it
    /// forgot state a running cluster counts on: a voter that lost its vote and log could vote twice in a term or help
    /// elect a leader without acknowledged writes. It asks nodes 1..N (GET /admin/seen/{id}) and returns why it must not
    /// start when a peer that has Raft state (term above 0 or a log) has seen this node as a cluster member before
    /// (for a joining server: still has it in its Raft configuration), or when the data directory has the
    /// <see cref="StateMarkerFile"/> but not the journal. A fresh cluster, where every node is empty, and a founding node
    /// that starts after the others elected a leader without it, start as before: nobody has seen them. Null: start.
    /// </summary>
    public async Task<LostState?> CheckForLostStateAsync()
    {
        if (!RaftEnabled || HasPersistedState) return null;
        List<SeenProbe.Answer> answered;
        List<string> silent;
        int fallbackVia;
        var probed = "";
        if (Node.UsesSeeds)
        {
            // Across hosts the peers' HTTP addresses are not known before this node joins: the seeds are asked over Akka.Remote.
            var protocol = DistSysNodeRuntime.AddressProtocol(_distsys);
            var self = DistSysNodeRuntime.SelfAddress(Node, protocol);
            var seeds = Node.Seeds.Select(s => NodeSeeds.WithProtocol(s, protocol)).Where(a => !a.Equals(self)).Distinct().ToList();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var answers = seeds.Count == 0 ? [] : await SeenProbe.AskAsync(DistSysNodeRuntime.RemotingConfig(_distsys), seeds, Node.Id, LostStateProbeTimeout);
            probed = $" in {watch.Elapsed.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} s";
            answered = answers.OfType<SeenProbe.Answer>().ToList();
            silent = seeds.Where((_, i) => answers[i] is null).Select(a => a.ToString()).ToList();
            fallbackVia = Enumerable.Range(1, Node.Nodes).FirstOrDefault(i => i != Node.Id);
        }
        else
        {
            var peers = Enumerable.Range(1, Node.Nodes).Where(i => i != Node.Id).ToList();
            var answers = await Task.WhenAll(peers.Select(AskSeenAsync));
            answered = answers.OfType<SeenProbe.Answer>().ToList();
            silent = peers.Where((_, i) => answers[i] is null).Select(i => $"{i}").ToList();
            fallbackVia = peers.FirstOrDefault();
        }
        var stillMember = answered.Count == 0 || answered.Any(a => a.RaftMember);
        var viaAnswer = answered.FirstOrDefault(a => a.Term > 0 || a.LastLogIndex > 0) ?? answered.FirstOrDefault();
        var via = viaAnswer?.NodeId ?? fallbackVia;
        var dir = Path.GetFullPath(Node.NodeDataDir);
        if (Settings.FileJournal && File.Exists(StateMarkerPath))
            return new LostState($"its data directory {dir} has {StateMarkerFile}, written when node {Node.Id} first kept its Raft state there, " +
                                 $"but not its journal {Settings.SqliteFile}: the journal was lost or removed", stillMember, via, viaAnswer?.Http);
        var knows = answered.FirstOrDefault(a => (a.Term > 0 || a.LastLogIndex > 0) && (Node.Join ? a.RaftMember : a.Seen));
        if (knows is not null)
        {
            var what = Node.Join
                ? $"node {knows.NodeId} still has node {Node.Id} in its Raft configuration"
                : $"node {knows.NodeId} knows node {Node.Id} as a member of its running cluster";
            return new LostState($"{what} (Raft term {knows.Term}, log index {knows.LastLogIndex}), but node {Node.Id}'s data directory {dir} " +
                                 $"holds no Raft state (no {(Settings.DurableJournal ? Settings.SqliteFile : "durable journal: distsys.persistence.journal = memory")})",
                stillMember, knows.NodeId, knows.Http);
        }
        var asked = Node.UsesSeeds ? "seeds" : "nodes";
        Console.WriteLine($"node {Node.Id}: no Raft state in {dir}; " + (answered.Count == 0
            ? $"no other node answered (asked {asked} {string.Join(", ", silent)}{probed}), so this is taken for a first start"
            : $"none of nodes {string.Join(", ", answered.Select(a => a.NodeId))} knows node {Node.Id} as a member" +
              (silent.Count > 0 ? $" ({asked} {string.Join(", ", silent)} did not answer{probed})" : "")) + $"; starting as {(Node.Join ? "a new server" : "a founding voter")}");
        return null;
    }

    private bool RaftEnabled => DistSysActors.Actors.Raft.RaftSettings.Create(_distsys).Enabled;

    /// <summary>
    /// What this node answers to <see cref="SeenProbe.Question"/> (over Akka.Remote) and to GET /admin/seen/{id}: its Raft
    /// term and last log index, whether it has seen node <paramref name="id"/> as a cluster member, whether its Raft
    /// configuration has it, and its HTTP address. Null with the reason while its Raft replica cannot say.
    /// </summary>
    public async Task<(SeenProbe.Answer? Answer, string? Error)> SeenAsync(int id, TimeSpan timeout)
    {
        if (Runtime?.Raft is not { } raft) return (null, "the Raft replica is not running on this node");
        try
        {
            var r = (await raft.Ask<NodeStatus>(GetStatus.Instance, timeout)).Raft;
            var member = r.Membership is { } m && (m.Voters.Any(v => v.Value == id) || m.Learners.Any(l => l.Value == id));
            return (new SeenProbe.Answer(Node.Id, r.Term, r.LastLogIndex, HasSeen(id), member, HttpUrl), null);
        }
        catch (AskTimeoutException) { return (null, "the Raft replica did not answer in time"); }
    }

    private async Task<SeenProbe.Answer?> AskSeenAsync(int peer)
    {
        using var client = new Client.NodeClient(peer, Node.HttpPortOf(peer), Node.Hostname, LostStateProbeTimeout);
        try
        {
            var (code, body) = await client.SendAsync(HttpMethod.Get, $"/admin/seen/{Node.Id}");
            return code == 200 ? System.Text.Json.JsonSerializer.Deserialize<SeenProbe.Answer>(body, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)) : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException) { return null; }
    }

    /// <summary>
    /// Whether node <paramref name="id"/> has been an Akka.Cluster member while this node ran: an Up member recorded in
    /// <see cref="SeenMembersPath"/> (kept across restarts), or a member of the current view in any status (a crashed
    /// incarnation stays there until it is downed and removed).
    /// </summary>
    public bool HasSeen(int id)
    {
        lock (_seen) if (_seen.Contains(id)) return true;
        return _runtime is { } runtime && Akka.Cluster.Cluster.Get(runtime.System).State.Members.Any(m => IdOf(m) == id);
    }

    /// <summary>Ids of every node this one has seen Up, kept under its data dir and only ever growing.</summary>
    public string SeenMembersPath => Path.Combine(Node.NodeDataDir, "seen-members");

    private readonly HashSet<int> _seen = new();

    private static int IdOf(Akka.Cluster.Member member) => NodeRoles.IdOf(member) ?? 0;

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

    private IReadOnlyList<int> ReadKnownMembers() => ReadIds(KnownMembersPath);

    private static IReadOnlyList<int> ReadIds(string path)
    {
        try
        {
            return File.ReadAllText(path).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(t => int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : 0)
                .Where(NodeSettings.InPortPlan).Distinct().Order().ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    /// <summary>
    /// Records the Up members' ids whenever they change, so a restart can find a cluster whose founding nodes were
    /// removed (<see cref="KnownMembersPath"/>), and every id ever seen Up (<see cref="SeenMembersPath"/>, for
    /// <see cref="HasSeen"/>). Files are written on the SQLite journal only; on the in-memory one the seen ids live as
    /// long as the process.
    /// </summary>
    private async Task RecordMembersAsync()
    {
        var durable = Settings.DurableJournal;
        var last = string.Join(",", ReadKnownMembers());
        var lastSeen = string.Join(",", ReadIds(SeenMembersPath));
        while (!_stopping)
        {
            await Task.Delay(KnownMembersInterval);
            if (_runtime is not { } runtime) continue;
            var state = Akka.Cluster.Cluster.Get(runtime.System).State;
            var up = state.Members.Where(m => m.Status == Akka.Cluster.MemberStatus.Up).Select(IdOf).Where(NodeSettings.InPortPlan).Distinct().Order().ToList();
            if (up.Count == 0) continue;
            string seen;
            lock (_seen)
            {
                _seen.UnionWith(up);
                seen = string.Join(",", _seen.Order());
            }
            if (!durable) continue;
            var ids = string.Join(",", up);
            try
            {
                if (seen != lastSeen)
                {
                    await WriteAtomicallyAsync(SeenMembersPath, seen);
                    lastSeen = seen;
                }
                if (ids != last)
                {
                    await WriteAtomicallyAsync(KnownMembersPath, ids);
                    last = ids;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"node {Node.Id}: could not record the members in {Node.NodeDataDir}: {e.Message}");
            }
        }
    }

    private static void WriteAtomically(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static async Task WriteAtomicallyAsync(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>The name of the CoordinatedShutdown task that hands Raft leadership away.</summary>
    public const string HandOffTask = "distsys-raft-leadership-hand-off";

    private void StartRuntime(bool rejoining)
    {
        FaultSpec faults;
        lock (_gate) faults = _faults;
        var config = ShutdownConfig().WithFallback(
            DistSysNodeRuntime.NodeConfig(_distsys, joinOthersOnly: rejoining, knownMembers: rejoining ? ReadKnownMembers() : null));
        var runtime = DistSysNodeRuntime.Start(config, faults: faults.IsNone ? null : faults);
        AddShutdownTasks(runtime);
        FaultSpec latest;
        lock (_gate) { _runtime = runtime; latest = _faults; }
        // A spec that arrived while this system was starting (a heal during a restart) replaces the one it started with.
        if (!Equals(latest, faults)) runtime.Network.Tell(new NetworkProtocol.SetFaults(latest));
        runtime.System.WhenTerminated.ContinueWith(_ => OnTerminated(runtime), TaskScheduler.Default);
        runtime.System.ActorOf(SeenProbe.Responder(async id => (await SeenAsync(id, LostStateProbeTimeout)).Answer), SeenProbe.ActorName);
    }

    /// <summary>The first phase of CoordinatedShutdown waits for the hand-off: its timeout covers distsys.node.shutdown-transfer-timeout-ms.</summary>
    private Config ShutdownConfig() => ConfigurationFactory.ParseString(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"akka.coordinated-shutdown.phases.{CoordinatedShutdown.PhaseBeforeServiceUnbind}.timeout = {Node.ShutdownTransferTimeoutMs + 2_000}ms"));

    /// <summary>
    /// Whoever starts CoordinatedShutdown — this host on SIGTERM or Ctrl+C, or Akka's own SIGTERM and process-exit hook,
    /// which runs at the same moment — the leader first hands Raft leadership away (phase before-service-unbind), and only
    /// then leaves the cluster. A node downed by the cluster skips the hand-off: it is cut off from the majority.
    /// </summary>
    private void AddShutdownTasks(DistSysNodeRuntime runtime)
    {
        var shutdown = CoordinatedShutdown.Get(runtime.System);
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, HandOffTask, async () =>
        {
            if (shutdown.ShutdownReason is not CoordinatedShutdown.ClusterDowningReason)
            {
                _stopping = true;
                if (await TransferLeadershipAwayAsync(runtime) is { } transfer) Console.WriteLine($"node {Node.Id}: {transfer}");
            }
            return Akka.Done.Instance;
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseClusterLeave, "distsys-log-leave", () =>
        {
            if (shutdown.ShutdownReason is not CoordinatedShutdown.ClusterDowningReason) Console.WriteLine($"node {Node.Id}: leaving the cluster");
            return Task.FromResult(Akka.Done.Instance);
        });
    }

    private void OnTerminated(DistSysNodeRuntime runtime)
    {
        var reason = CoordinatedShutdown.Get(runtime.System).ShutdownReason;
        lock (_gate)
        {
            if (!ReferenceEquals(_runtime, runtime)) return;
            // Only being downed restarts the system; a shutdown the process asked for (this host's, or Akka's own SIGTERM
            // and process-exit hook, which may run first) or any other end stops the node, and the process ends with it.
            if (_stopping || reason is not CoordinatedShutdown.ClusterDowningReason || !Node.RejoinWhenDowned)
            {
                _stopping = true;
                _stopped.TrySetResult(reason switch
                {
                    _ when _disposing => new StopCause(true, "actor system stopped"),
                    CoordinatedShutdown.ClrExitReason => new StopCause(true, "actor system stopped (shutdown requested)"),
                    CoordinatedShutdown.ClusterDowningReason => new StopCause(false, "actor system stopped (downed by the cluster); not restarting (distsys.node.rejoin-when-downed = off)"),
                    null => new StopCause(false, "actor system stopped unexpectedly"),
                    _ => new StopCause(false, $"actor system stopped ({reason.GetType().Name})"),
                });
                return;
            }
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
    public async Task<string?> TransferLeadershipAwayAsync(DistSysNodeRuntime runtime)
    {
        if (runtime.Raft is not { } raft || Node.ShutdownTransferTimeoutMs == 0) return null;
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
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or ArgumentOutOfRangeException or InvalidOperationException)
        {
            return $"Raft leadership transfer did not finish in {Node.ShutdownTransferTimeoutMs} ms; the others elect a new leader after their election timeout";
        }
    }

    /// <summary>Leaves the cluster gracefully and stops the actor system.</summary>
    public async ValueTask DisposeAsync()
    {
        DistSysNodeRuntime? runtime;
        lock (_gate) { _stopping = _disposing = true; runtime = _runtime; }
        if (_peerClient.IsValueCreated) _peerClient.Value.Dispose();
        if (runtime is null) return;
        await CoordinatedShutdown.Get(runtime.System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        await runtime.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(15));
    }
}

/// <summary>A fault spec accepted while the node restarts its actor system: the new system installs it.</summary>
public sealed record FaultsPending(Core.Network.FaultSpec Spec);

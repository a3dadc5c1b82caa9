using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Event;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Gossip;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Modules;
using DistSysActors.Actors.Network;
using DistSysActors.Core.Gossip;

namespace DistSysActors.Node.Bench;

/// <summary>
/// Actor systems in this one process, clustered over real remoting on loopback, each running the network component and
/// our SWIM membership beside Akka.Cluster. A watcher in every system records, on one clock, when that member learned
/// what about another (SWIM's <see cref="MemberStateChanged"/>, Akka.Cluster's member and reachability events), and
/// counts the remote messages it sends (Akka.Remote's <c>log-sent-messages</c>): to Akka.Cluster's daemons, or to our
/// network component.
/// </summary>
internal sealed class GossipBenchCluster(int basePort, string dataDir) : IAsyncDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<Observation> _observations = [];
    private readonly Dictionary<int, (ActorSystem System, DistSysNodeRuntime Runtime)> _members = [];
    private long _akkaMessages, _ourMessages;

    /// <summary>What <paramref name="Observer"/> learned about <paramref name="Subject"/> at <paramref name="AtMs"/>.</summary>
    public sealed record Observation(int Observer, int Subject, string Kind, double AtMs);

    public const string SwimAlive = "swim alive", SwimSuspect = "swim suspect", SwimDead = "swim dead";
    public const string AkkaUp = "akka up", AkkaLeaving = "akka leaving", AkkaUnreachable = "akka unreachable", AkkaRemoved = "akka removed";

    public double NowMs => _clock.Elapsed.TotalMilliseconds;

    public IReadOnlyCollection<int> Running { get { lock (_members) return _members.Keys.Order().ToArray(); } }

    public (long Akka, long Ours) MessagesSent => (Interlocked.Read(ref _akkaMessages), Interlocked.Read(ref _ourMessages));

    /// <summary>Starts node <paramref name="id"/> of a port plan of <paramref name="plannedNodes"/>: it joins nodes 1..planned (node 1 forms the cluster).</summary>
    public void Start(int id, int plannedNodes)
    {
        var distsys = ConfigurationFactory.ParseString($$"""
            distsys.node.id = {{id}}
            distsys.node.nodes = {{plannedNodes}}
            distsys.node.base-port = {{basePort}}
            distsys.node.data-dir = "{{dataDir.Replace("\\", "/")}}"
            distsys.persistence.journal = memory
            akka.loglevel = DEBUG
            akka.stdout-loglevel = OFF
            akka.loggers = ["{{typeof(SilentLogger).AssemblyQualifiedName}}"]
            akka.remote.log-sent-messages = on
            """).WithFallback(DistSysConfig.NodeOverlay).WithFallback(DistSysConfig.Reference);
        var config = DistSysNodeRuntime.NodeConfig(distsys, joinOthersOnly: id != 1);
        var system = ActorSystem.Create(DistSysNodeRuntime.SystemName, config);
        var runtime = DistSysNodeRuntime.StartActors(system, config, modules: [new NetworkModule(), new SwimModule()]);
        system.ActorOf(Props.Create(() => new Watcher(id, this)), "gossip-bench-watcher");
        lock (_members) _members[id] = (system, runtime);
    }

    public async Task<SwimStatus> SwimStatusAsync(int id) =>
        await Runtime(id).Module(new SwimModule().Name)!.Ask<SwimStatus>(GossipProtocol.GetSwimStatus.Instance, TimeSpan.FromSeconds(10));

    /// <summary>Whether every running member sees every other as alive (SWIM) and Up and reachable (Akka.Cluster).</summary>
    public async Task<bool> SettledAsync()
    {
        var running = Running;
        foreach (var id in running)
        {
            var swim = await SwimStatusAsync(id);
            if (running.Any(o => !swim.Members.Any(m => m.Member.Value == o && m.State == MemberState.Alive))) return false;
            var state = Akka.Cluster.Cluster.Get(Runtime(id).System).State;
            if (state.Unreachable.Count > 0 || state.Members.Count(m => m.Status == MemberStatus.Up) != running.Count) return false;
        }
        return true;
    }

    /// <summary>SWIM's graceful leave and Akka.Cluster's, at the same moment.</summary>
    public void Leave(int id)
    {
        var (system, runtime) = Member(id);
        runtime.Module(new SwimModule().Name)!.Tell(GossipProtocol.Leave.Instance);
        var cluster = Akka.Cluster.Cluster.Get(system);
        cluster.Leave(cluster.SelfAddress);
    }

    /// <summary>As kill -9 for its peers: every link of the node is blackholed at once, Akka.Remote's included; it says nothing.</summary>
    public async Task CutOffAsync(int id)
    {
        var others = Running.Where(o => o != id).ToArray();
        await Runtime(id).Network.Ask<NetworkProtocol.FaultsApplied>(new NetworkProtocol.SetFaults(Core.Network.FaultSpec.Partition([id], others)), TimeSpan.FromSeconds(10));
    }

    /// <summary>Stops the node's actor system (after a cut or a leave) and forgets it.</summary>
    public async Task StopAsync(int id)
    {
        var (system, _) = Member(id);
        lock (_members) _members.Remove(id);
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });
    }

    /// <summary>
    /// The time from <paramref name="sinceMs"/> until every one of <paramref name="observers"/> learned <paramref name="kind"/>
    /// about <paramref name="subject"/> (the last observer's first such event), or null while some has not.
    /// </summary>
    public double? KnownByAll(IEnumerable<int> observers, int subject, string kind, double sinceMs)
    {
        lock (_observations)
        {
            double latest = 0;
            foreach (var o in observers)
            {
                var first = _observations.FirstOrDefault(e => e.Observer == o && e.Subject == subject && e.Kind == kind && e.AtMs >= sinceMs);
                if (first is null) return null;
                latest = Math.Max(latest, first.AtMs - sinceMs);
            }
            return latest;
        }
    }

    private (ActorSystem System, DistSysNodeRuntime Runtime) Member(int id) { lock (_members) return _members[id]; }

    private DistSysNodeRuntime Runtime(int id) => Member(id).Runtime;

    private void Observe(int observer, int subject, string kind)
    {
        lock (_observations) _observations.Add(new Observation(observer, subject, kind, NowMs));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in Running) await StopAsync(id);
    }

    /// <summary>One per system: turns SWIM's and Akka.Cluster's events into observations, and counts sent remote messages.</summary>
    private sealed class Watcher : ReceiveActor
    {
        public Watcher(int self, GossipBenchCluster bench)
        {
            Receive<MemberStateChanged>(c => bench.Observe(self, c.Member.Value, c.State switch
            {
                MemberState.Alive => SwimAlive,
                MemberState.Suspect => SwimSuspect,
                _ => SwimDead,
            }));
            Receive<ClusterEvent.IMemberEvent>(e =>
            {
                if (NodeRoles.IdOf(e.Member) is not { } id) return;
                var kind = e switch
                {
                    ClusterEvent.MemberUp => AkkaUp,
                    ClusterEvent.MemberLeft or ClusterEvent.MemberExited => AkkaLeaving,
                    ClusterEvent.MemberRemoved => AkkaRemoved,
                    _ => null,
                };
                if (kind is not null) bench.Observe(self, id, kind);
            });
            Receive<ClusterEvent.UnreachableMember>(e =>
            {
                if (NodeRoles.IdOf(e.Member) is { } id) bench.Observe(self, id, AkkaUnreachable);
            });
            Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
            Receive<Akka.Event.Debug>(d =>
            {
                // Akka.Remote's log-sent-messages: "RemoteMessage: <message> to [<recipient>]..." for every message it writes.
                if (d.Message is not { } m) return;
                var text = m.ToString() ?? "";
                if (!text.StartsWith("RemoteMessage", StringComparison.Ordinal)) return;
                if (text.Contains("/system/cluster", StringComparison.Ordinal)) Interlocked.Increment(ref bench._akkaMessages);
                else if (text.Contains("/user/distsys/", StringComparison.Ordinal)) Interlocked.Increment(ref bench._ourMessages);
            });
        }

        protected override void PreStart()
        {
            Context.System.EventStream.Subscribe(Self, typeof(MemberStateChanged));
            Context.System.EventStream.Subscribe(Self, typeof(Akka.Event.Debug));
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.UnreachableMember));
        }
    }
}

/// <summary>A logger that prints nothing: the benchmark turns on debug logging only to count remote messages.</summary>
public sealed class SilentLogger : ReceiveActor
{
    public SilentLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(_ => { });
    }
}

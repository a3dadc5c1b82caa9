using DistSysActors.Core;
using DistSysActors.Core.FailureDetection;
using DistSysActors.Core.Network;
using DistSysActors.Core.Protocol;
using DistSysActors.Simulation.Protocol;

namespace DistSysActors.Simulation.Tests.FailureDetection;

/// <summary>
/// The heartbeat protocol on <see cref="Simulator{TMessage}"/>: one <see cref="HeartbeatMonitor"/> per node hosted by a
/// <see cref="ProtocolSimNode{TCore,TMessage,TReady}"/>, ticked every <c>tickMs</c> at a seeded phase, messages crossing
/// the seeded fault planner with no latency beyond the faults' delay, crash-stop nodes.
/// </summary>
internal sealed class HeartbeatCluster
{
    public HeartbeatCluster(int nodeCount, HeartbeatSettings settings, FaultSpec faults, long seed, int tickMs = 100)
    {
        Sim = new Simulator<HeartbeatMessage>(new SimulatorOptions { Seed = seed, TickIntervalMs = tickMs, LatencyMinMs = 0, LatencyMaxMs = 0 });
        Sim.SetFaults(faults);
        var ids = Enumerable.Range(1, nodeCount).Select(i => new NodeId(i)).ToArray();
        var options = new ProtocolSimOptions<HeartbeatMonitor>
        {
            OnAnswer = (_, answer) => { if (answer is ReachabilityEvent e) Events.Add(e); },
            AfterTick = (monitor, nowMs) =>
            {
                foreach (var status in monitor.Snapshot(nowMs))
                    if (Sim.IsUp(status.NodeId)) MaxPhiAmongLive = Math.Max(MaxPhiAmongLive, status.Phi ?? 0);
            },
        };
        Sim.AddNodes(ids, (id, _) =>
        {
            var monitor = new HeartbeatMonitor(id, ids, settings, Sim.NowMs);
            Monitors[id] = monitor;
            return new ProtocolSimNode<HeartbeatMonitor, HeartbeatMessage, HeartbeatReady>(monitor, options);
        });
    }

    public Simulator<HeartbeatMessage> Sim { get; }

    /// <summary>Each node's monitor (the last incarnation's), also after a crash.</summary>
    public SortedDictionary<NodeId, HeartbeatMonitor> Monitors { get; } = new();

    public List<ReachabilityEvent> Events { get; } = [];

    public NetworkCounters NetworkCounters => Sim.Network.PlannerCounters;

    /// <summary>Highest phi any live node has computed for a live peer at any of its ticks.</summary>
    public double MaxPhiAmongLive { get; private set; }

    public void RunUntil(long untilMs) => Sim.RunFor(untilMs - Sim.NowMs);

    public void Crash(NodeId node) => Sim.Crash(node);
}

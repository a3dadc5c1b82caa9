using DistSysActors.Core;
using DistSysActors.Core.Gossip;
using DistSysActors.Core.Network;
using DistSysActors.Core.Protocol;
using DistSysActors.Simulation.Protocol;

namespace DistSysActors.Simulation.Tests.Gossip;

using SwimSimNode = ProtocolSimNode<SwimMembership, SwimMessage, ProtocolReady<SwimMessage>>;

/// <summary>
/// SWIM on <see cref="Simulator{TMessage}"/>: one <see cref="SwimMembership"/> per node on a <see cref="ProtocolSimNode{TCore,TMessage,TReady}"/>,
/// wrapped so a test can cut single links (<see cref="CutLink"/>), with every view change recorded. A global invariant,
/// checked after every event besides each core's own: no view takes an incarnation of a member above the member's own
/// (only a member raises its incarnation).
/// </summary>
internal sealed class SwimCluster
{
    public static readonly SwimConfig DefaultConfig = new() { PeriodMs = 1_000, PingTimeoutMs = 300, IndirectProbes = 3, SyncEveryRounds = 10 };

    private readonly HashSet<(NodeId, NodeId)> _cutLinks = [];

    public SwimCluster(int nodeCount, long seed, SwimConfig? config = null, FaultSpec? faults = null, int? tickMs = null)
    {
        Config = config ?? DefaultConfig;
        Sim = new Simulator<SwimMessage>(new SimulatorOptions { Seed = seed, TickIntervalMs = tickMs ?? Config.PeriodMs / 10 });
        if (faults is not null) Sim.SetFaults(faults);
        Ids = Enumerable.Range(1, nodeCount).Select(i => new NodeId(i)).ToArray();
        var options = new ProtocolSimOptions<SwimMembership>
        {
            OnAnswer = (node, answer) => { if (answer is MemberStateChanged c) OnChange(node, c); },
        };
        Sim.AddNodes(Ids, (id, _) =>
        {
            var core = new SwimMembership(id, Ids, Config, Sim.ForkRandom());
            Cores[id] = core;
            return new LinkCuttingNode(new SwimSimNode(core, options), this);
        });
        // Views change only through announced changes, so checking each change keeps the check O(1) per event.
        Sim.Invariants.Add("no view is ahead of a member's own incarnation", () => _violation);
    }

    private string? _violation;

    public SwimConfig Config { get; }
    public Simulator<SwimMessage> Sim { get; }
    public NodeId[] Ids { get; }
    public SortedDictionary<NodeId, SwimMembership> Cores { get; } = new();

    /// <summary>Every view change: (viewer, change).</summary>
    public List<(NodeId Viewer, MemberStateChanged Change)> Changes { get; } = [];

    /// <summary>Called on every view change, as it happens.</summary>
    public Action<NodeId, MemberStateChanged>? ChangeListener { get; set; }

    public long CutLinkDrops { get; private set; }

    /// <summary>Cuts the link between <paramref name="a"/> and <paramref name="b"/> both ways (everything on it is lost: as slow as you like).</summary>
    public void CutLink(NodeId a, NodeId b)
    {
        _cutLinks.Add((a, b));
        _cutLinks.Add((b, a));
    }

    /// <summary>Which nodes see <paramref name="member"/> as <paramref name="state"/> (among the nodes up).</summary>
    public IEnumerable<NodeId> Seeing(NodeId member, MemberState state) =>
        Ids.Where(id => Sim.IsUp(id) && Cores[id].StateOf(member) == state);

    /// <summary>Periods (of the configured length) between two virtual times.</summary>
    public double Periods(long fromMs, long toMs) => (toMs - fromMs) / (double)Config.PeriodMs;

    /// <summary>Runs <paramref name="call"/> on a node's core now, and executes what it caused.</summary>
    public void Invoke(NodeId node, Action<SwimMembership, long> call) =>
        Sim.Invoke<LinkCuttingNode>(node, (n, ctx) => n.Invoke(ctx, call));

    private void OnChange(NodeId viewer, MemberStateChanged change)
    {
        if (Cores.TryGetValue(change.Member, out var member) && change.Incarnation > member.Incarnation)
            _violation ??= $"node {viewer} took incarnation {change.Incarnation} of member {change.Member}, whose own is {member.Incarnation}";
        Changes.Add((viewer, change));
        ChangeListener?.Invoke(viewer, change);
    }

    private bool Cut(NodeId from, NodeId to)
    {
        if (_cutLinks.Count == 0 || !_cutLinks.Contains((from, to))) return false;
        CutLinkDrops++;
        return true;
    }

    /// <summary>A simulated node whose sends and receipts on cut links are lost.</summary>
    private sealed class LinkCuttingNode(SwimSimNode inner, SwimCluster cluster) : ISimNode<SwimMessage>
    {
        public void Start(ISimContext<SwimMessage> ctx) => inner.Start(new Context(ctx, cluster));

        public void Receive(NodeId from, SwimMessage msg, ISimContext<SwimMessage> ctx)
        {
            if (!cluster.Cut(from, ctx.Self)) inner.Receive(from, msg, new Context(ctx, cluster));
        }

        public void Tick(ISimContext<SwimMessage> ctx) => inner.Tick(new Context(ctx, cluster));

        public IReadOnlyList<string> CheckInvariants() => inner.CheckInvariants();

        public void Invoke(ISimContext<SwimMessage> ctx, Action<SwimMembership, long> call) => inner.Invoke(new Context(ctx, cluster), call);
    }

    private sealed class Context(ISimContext<SwimMessage> ctx, SwimCluster cluster) : ISimContext<SwimMessage>
    {
        public long NowMs => ctx.NowMs;
        public NodeId Self => ctx.Self;
        public SimStorage Storage => ctx.Storage;
        public DeterministicRandom Random => ctx.Random;
        public void Send(NodeId to, SwimMessage msg) { if (!cluster.Cut(ctx.Self, to)) ctx.Send(to, msg); }
        public void Write(SimWrite write, Action onDurable) => ctx.Write(write, onDurable);
        public void Note(string text) => ctx.Note(text);
    }
}

namespace DistSysActors.Node.Commands.Nemesis;

/// <summary>The faults a nemesis may inject.</summary>
[Flags]
internal enum NemesisFaults
{
    Kill = 1,
    Partition = 2,
    All = Kill | Partition,
}

internal enum NemesisStepKind
{
    /// <summary>kill -9 the node Raft reported as leader (a random node when none is known).</summary>
    KillLeader,
    /// <summary>kill -9 a random node.</summary>
    KillNode,
    /// <summary>Start again the node killed longest ago.</summary>
    Restart,
    /// <summary>Cut a minority that holds the leader off from the rest.</summary>
    PartitionLeader,
    /// <summary>Cut a random minority off from the rest.</summary>
    PartitionNodes,
    /// <summary>Remove the partition.</summary>
    Heal,
}

/// <summary>One nemesis action at <see cref="AtMs"/> after the start: <see cref="Nodes"/> are the node killed or restarted, or the minority cut off.</summary>
internal sealed record NemesisStep(long AtMs, NemesisStepKind Kind, IReadOnlyList<int> Nodes, int? Leader)
{
    public bool IsKill => Kind is NemesisStepKind.KillLeader or NemesisStepKind.KillNode;
    public bool IsPartition => Kind is NemesisStepKind.PartitionLeader or NemesisStepKind.PartitionNodes;

    public string Describe(int nodes) => Kind switch
    {
        NemesisStepKind.KillLeader when Nodes[0] == Leader => $"kill -9 node {Nodes[0]} (the leader)",
        NemesisStepKind.KillLeader when Leader is null => $"kill -9 node {Nodes[0]} (no leader known: a random node)",
        NemesisStepKind.KillLeader => $"kill -9 node {Nodes[0]} (killing leader {Leader} would leave no majority: a random node that may fail)",
        NemesisStepKind.KillNode => $"kill -9 node {Nodes[0]}" + (Nodes[0] == Leader ? " (the leader)" : ""),
        NemesisStepKind.Restart => $"restart node {Nodes[0]}",
        NemesisStepKind.Heal => "heal the partition",
        _ => $"partition {string.Join(",", Nodes)} / {string.Join(",", Enumerable.Range(1, nodes).Except(Nodes))}"
             + (Leader is { } l && Nodes.Contains(l) ? $" (leader {l} in the minority)" : ""),
    };
}

/// <summary>
/// The nemesis's plan, from a seed: every random interval it picks one action among those allowed now, uniformly:
/// kill -9 the leader or a random node, restart a killed node, cut a minority off (holding the leader, or random),
/// heal. At most f = (nodes - 1) / 2 nodes are impaired at once (killed, restarted but not yet ready, or cut off), so a
/// live, connected majority always remains and the cluster can make progress; one partition at a time. A restarted
/// node counts as impaired until the runner reports it ready (<see cref="Recovered"/>): a node takes seconds to start,
/// and one counted healthy before would let the nemesis take the majority down. Pure and deterministic: the same
/// seed, leaders observed and recoveries reported give the same steps, so a run's faults replay from its printed seed.
/// </summary>
internal sealed class NemesisSchedule
{
    private readonly int _nodes;
    private readonly Random _random;
    private readonly int _intervalMinMs;
    private readonly int _intervalMaxMs;
    private readonly NemesisFaults _faults;
    // Killed nodes in the order they were killed: a restart brings back the one down longest.
    private readonly List<int> _killed = [];
    // Restarted and not reported ready yet.
    private readonly SortedSet<int> _recovering = [];
    private int[]? _isolated;

    public NemesisSchedule(int nodes, long seed, int intervalMinMs, int intervalMaxMs, NemesisFaults faults)
    {
        if (nodes < 3) throw new ArgumentOutOfRangeException(nameof(nodes), nodes, "a nemesis needs at least 3 nodes (one may fail)");
        if (intervalMinMs < 1 || intervalMaxMs < intervalMinMs) throw new ArgumentOutOfRangeException(nameof(intervalMinMs), "need 1 <= min <= max");
        if ((faults & NemesisFaults.All) == 0) throw new ArgumentOutOfRangeException(nameof(faults), faults, "no fault to inject");
        _nodes = nodes;
        _random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        _intervalMinMs = intervalMinMs;
        _intervalMaxMs = intervalMaxMs;
        _faults = faults;
        NextAtMs = Interval();
    }

    /// <summary>Nodes that may fail at once with a majority left: f of 2f+1.</summary>
    public int FaultsMax => (_nodes - 1) / 2;

    /// <summary>When the next step is due, in ms after the start.</summary>
    public long NextAtMs { get; private set; }

    public IReadOnlyList<int> Killed => _killed;

    /// <summary>Restarted nodes not reported ready yet.</summary>
    public IReadOnlyCollection<int> Recovering => _recovering;

    /// <summary>The minority cut off now, or empty.</summary>
    public IReadOnlyList<int> Isolated => _isolated ?? [];

    /// <summary>Killed, recovering or cut off now.</summary>
    public IReadOnlySet<int> Impaired => _killed.Concat(_recovering).Concat(Isolated).ToHashSet();

    /// <summary>Down now: killed, or restarted and not ready yet.</summary>
    private int DownCount => _killed.Count + _recovering.Count;

    /// <summary>The runner saw restarted node <paramref name="node"/> ready: it counts as healthy again.</summary>
    public void Recovered(int node) => _recovering.Remove(node);

    /// <summary>
    /// Decides the step due at <see cref="NextAtMs"/>, given the leader observed now (null when none is known), records
    /// its effect and schedules the next one.
    /// </summary>
    public NemesisStep Next(int? leader)
    {
        var impaired = Impaired;
        var candidates = new List<NemesisStepKind>();
        if (_killed.Count > 0) candidates.Add(NemesisStepKind.Restart);
        if (_isolated is not null) candidates.Add(NemesisStepKind.Heal);
        if (_faults.HasFlag(NemesisFaults.Kill) && KillTargets(impaired).Count > 0)
            candidates.AddRange([NemesisStepKind.KillLeader, NemesisStepKind.KillNode]);
        if (_faults.HasFlag(NemesisFaults.Partition) && _isolated is null && FaultsMax - DownCount >= 1)
            candidates.AddRange([NemesisStepKind.PartitionLeader, NemesisStepKind.PartitionNodes]);
        var kind = candidates[_random.Next(candidates.Count)];
        int[] nodes;
        switch (kind)
        {
            case NemesisStepKind.KillLeader:
            case NemesisStepKind.KillNode:
                var targets = KillTargets(impaired);
                var pick = targets[_random.Next(targets.Count)]; // drawn either way, so the random sequence does not depend on the leader
                nodes = [kind == NemesisStepKind.KillLeader && leader is { } l && targets.Contains(l) ? l : pick];
                _killed.Add(nodes[0]);
                _recovering.Remove(nodes[0]);
                break;
            case NemesisStepKind.Restart:
                nodes = [_killed[0]];
                _killed.RemoveAt(0);
                _recovering.Add(nodes[0]);
                break;
            case NemesisStepKind.Heal:
                nodes = _isolated!;
                _isolated = null;
                break;
            default:
                nodes = Minority(kind == NemesisStepKind.PartitionLeader ? leader : null);
                _isolated = nodes;
                break;
        }
        var step = new NemesisStep(NextAtMs, kind, nodes, leader);
        NextAtMs += Interval();
        return step;
    }

    /// <summary>
    /// The steps of a whole run of <paramref name="durationMs"/>, with the leader each would observe and every restarted
    /// node ready by the next step; for tests and dry runs.
    /// </summary>
    public IReadOnlyList<NemesisStep> Plan(long durationMs, Func<long, int?> leaderAtMs)
    {
        var steps = new List<NemesisStep>();
        while (NextAtMs < durationMs)
        {
            foreach (var node in _recovering.ToList()) Recovered(node);
            steps.Add(Next(leaderAtMs(NextAtMs)));
        }
        return steps;
    }

    /// <summary>Nodes whose kill keeps at most f impaired: any node already impaired (cut off, recovering), or any other while the budget allows.</summary>
    private List<int> KillTargets(IReadOnlySet<int> impaired) =>
        Enumerable.Range(1, _nodes).Where(n => !_killed.Contains(n) && (impaired.Contains(n) || impaired.Count < FaultsMax)).ToList();

    /// <summary>1..(f - down) healthy nodes, the leader first when it is given and healthy; sorted.</summary>
    private int[] Minority(int? leader)
    {
        var size = 1 + _random.Next(FaultsMax - DownCount);
        var live = Enumerable.Range(1, _nodes).Where(n => !_killed.Contains(n) && !_recovering.Contains(n)).ToList();
        var chosen = new List<int>();
        if (leader is { } l && live.Contains(l)) chosen.Add(l);
        while (chosen.Count < size)
        {
            var n = live[_random.Next(live.Count)];
            if (!chosen.Contains(n)) chosen.Add(n);
        }
        chosen.Sort();
        return chosen.ToArray();
    }

    private long Interval() => _random.Next(_intervalMinMs, _intervalMaxMs + 1);
}

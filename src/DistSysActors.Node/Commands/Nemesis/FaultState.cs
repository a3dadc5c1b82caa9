using DistSysActors.Node.Http;

namespace DistSysActors.Node.Commands.Nemesis;

/// <summary>
/// The faults in force during a run, shared by the nemesis (which changes them) and the clients (which tag each
/// operation with the state of the node they ask) and the monitor (which polls live nodes only).
/// </summary>
internal sealed class FaultState(int nodes)
{
    private readonly object _gate = new();
    private readonly SortedSet<int> _killed = [];
    private int[] _isolated = [];
    private FaultSpecDto? _partition;

    public void Kill(int node) { lock (_gate) _killed.Add(node); }

    public void Restart(int node) { lock (_gate) _killed.Remove(node); }

    /// <summary>Cuts <paramref name="minority"/> off from the other nodes.</summary>
    public void Isolate(IReadOnlyList<int> minority)
    {
        lock (_gate)
        {
            _isolated = minority.Order().ToArray();
            var rest = Enumerable.Range(1, nodes).Except(_isolated).ToArray();
            _partition = new FaultSpecDto([_isolated, rest], 0, [0, 0], 0, false, null);
        }
    }

    public void Heal()
    {
        lock (_gate)
        {
            _isolated = [];
            _partition = null;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _killed.Clear();
            _isolated = [];
            _partition = null;
        }
    }

    /// <summary>The partition in force as the admin API takes it, or null; the same object until it changes.</summary>
    public FaultSpecDto? Partition() { lock (_gate) return _partition; }

    public IReadOnlyList<int> Killed() { lock (_gate) return _killed.ToList(); }

    public IReadOnlyList<int> Live() { lock (_gate) return Enumerable.Range(1, nodes).Where(n => !_killed.Contains(n)).ToList(); }

    /// <summary>What is being done to <paramref name="node"/> now, in words the summary groups by.</summary>
    public string Describe(int node)
    {
        lock (_gate)
        {
            if (_killed.Contains(node)) return "node killed (down)";
            if (_isolated.Contains(node)) return "node cut off in a minority";
            if (_isolated.Length > 0) return "node healthy, on the majority side of a partition";
            return _killed.Count > 0 ? "node healthy, another node down" : "node healthy, no fault in force";
        }
    }
}

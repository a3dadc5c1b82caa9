namespace DistSysActors.Node.Commands.Nemesis;

/// <summary>
/// Leaders as the nodes report them (/status raft term and leaderId), polled during the run: each new term with a
/// known leader is one leadership. Observations may come late or out of order across nodes; an older term is ignored.
/// </summary>
internal sealed class LeaderTracker
{
    private readonly List<(long AtMs, long Term, int Leader)> _leaderships = [];
    private long _term = -1;

    /// <summary>Every leadership seen, in term order, with when it was first seen.</summary>
    public IReadOnlyList<(long AtMs, long Term, int Leader)> Leaderships
    {
        get { lock (_leaderships) return _leaderships.ToList(); }
    }

    /// <summary>The leader of the highest term seen, or null.</summary>
    public int? Current
    {
        get { lock (_leaderships) return _leaderships.Count == 0 ? null : _leaderships[^1].Leader; }
    }

    public void Observe(long atMs, long term, int? leader)
    {
        if (leader is not { } l) return;
        lock (_leaderships)
        {
            if (term <= _term) return;
            _term = term;
            _leaderships.Add((atMs, term, l));
        }
    }

    /// <summary>Leaderships after the first (each one an election won), and how many of them moved leadership to another node.</summary>
    public (int Changes, int NodeChanges) Changes()
    {
        var all = Leaderships;
        var nodeChanges = 0;
        for (var i = 1; i < all.Count; i++)
            if (all[i].Leader != all[i - 1].Leader) nodeChanges++;
        return (Math.Max(0, all.Count - 1), nodeChanges);
    }
}

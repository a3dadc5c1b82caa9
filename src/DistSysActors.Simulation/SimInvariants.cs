namespace DistSysActors.Simulation;

/// <summary>
/// Checks run after every simulation event. A check either returns a violation description (null when it holds)
/// or throws; the simulator turns the first violation into an <see cref="InvariantViolationException"/>.
/// </summary>
public sealed class SimInvariants
{
    public const int ChecksMax = 1_000;

    private readonly List<(string Name, Func<string?> Check)> _checks = [];

    public int Count => _checks.Count;

    public void Add(string name, Func<string?> check)
    {
        if (_checks.Count >= ChecksMax) throw new InvalidOperationException($"at most {ChecksMax} invariants");
        _checks.Add((name, check));
    }

    /// <summary>An invariant written as assertions: any exception it throws is the violation.</summary>
    public void Add(string name, Action check) => Add(name, () =>
    {
        check();
        return null;
    });

    /// <summary>The first failing check and its description, or null when all hold.</summary>
    public (string Name, string Violation)? FirstViolation()
    {
        foreach (var (name, check) in _checks)
        {
            string? violation;
            try { violation = check(); }
            catch (Exception e) { violation = $"{e.GetType().Name}: {e.Message}"; }
            if (violation is not null) return (name, violation);
        }
        return null;
    }
}

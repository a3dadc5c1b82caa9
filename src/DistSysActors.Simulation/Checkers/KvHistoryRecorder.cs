namespace DistSysActors.Simulation.Checkers;

/// <summary>
/// Records the operations clients issue during a run, for <see cref="LinearizabilityChecker"/>. An operation that never
/// gets a result (timeout, 503 "unknown", a crash) stays pending and enters the history with an unknown outcome.
/// </summary>
public sealed class KvHistoryRecorder
{
    public const int OperationsMax = 1_000_000;

    private readonly List<(int ClientId, KvInput Input, long CallMs)> _calls = [];
    private readonly List<(long ReturnMs, KvOutput Output)?> _returns = [];

    public int Count => _calls.Count;

    public int PendingCount => _returns.Count(r => r is null);

    /// <summary>Records an invocation; returns the id to complete it with.</summary>
    public int Call(int clientId, KvInput input, long callMs)
    {
        if (_calls.Count >= OperationsMax) throw new InvalidOperationException($"history exceeds OperationsMax={OperationsMax}");
        _calls.Add((clientId, input, callMs));
        _returns.Add(null);
        return _calls.Count - 1;
    }

    /// <summary>Records a confirmed result. Throws if the operation already completed or returns before its call.</summary>
    public void Return(int id, KvOutput output, long returnMs)
    {
        var call = _calls[id];
        if (_returns[id] is not null) throw new InvalidOperationException($"operation {id} already returned");
        if (returnMs < call.CallMs) throw new ArgumentOutOfRangeException(nameof(returnMs), $"operation {id} returns at {returnMs} before its call at {call.CallMs}");
        _returns[id] = (returnMs, output);
    }

    public IReadOnlyList<KvOperation> History()
    {
        var history = new KvOperation[_calls.Count];
        for (var i = 0; i < history.Length; i++)
        {
            var (client, input, callMs) = _calls[i];
            history[i] = _returns[i] is { } r
                ? new KvOperation(client, input, callMs, r.ReturnMs, r.Output)
                : KvOperation.Unknown(client, input, callMs);
        }
        return history;
    }

    public LinearizabilityResult Check(CheckBudget? budget = null) => LinearizabilityChecker.Check(History(), budget);
}

using DistSysActors.Simulation.Checkers;

namespace DistSysActors.Node.Commands.Nemesis;

/// <summary>
/// One client operation: a read, or a write with all its attempts under one Idempotency-Key (from the first call to
/// the last return). <see cref="NodeState"/> is what the nemesis was doing to the node asked (first attempt) when
/// the operation was called: healthy, killed or cut off.
/// </summary>
internal sealed record OpRecord(
    int ClientId, bool Read, string Key, string? Value, long Seq, long CallMs, long ReturnMs, OpResult Result, int Node, string NodeState, int Attempts)
{
    public OpOutcome Outcome => Result.Outcome;
}

/// <summary>Every operation of a run, recorded by the clients concurrently; turned into the checkers' inputs afterwards.</summary>
internal sealed class NemesisHistory
{
    /// <summary>Operations kept; beyond it recording stops and the run says so (a 40 s run makes tens of thousands).</summary>
    public const int OperationsMax = 2_000_000;

    private readonly List<OpRecord> _ops = [];

    public bool Truncated { get; private set; }

    public void Add(OpRecord op)
    {
        lock (_ops)
        {
            if (_ops.Count >= OperationsMax) Truncated = true;
            else _ops.Add(op);
        }
    }

    public IReadOnlyList<OpRecord> Operations
    {
        get { lock (_ops) return _ops.ToList(); }
    }

    /// <summary>
    /// The history for <see cref="LinearizabilityChecker"/>: answered reads and writes as they returned, writes of unknown
    /// outcome as pending forever (they may take effect at any time after their call); operations that certainly did
    /// nothing and reads with no answer (they constrain nothing) are left out.
    /// </summary>
    public static IReadOnlyList<KvOperation> ForChecker(IEnumerable<OpRecord> ops)
    {
        var history = new List<KvOperation>();
        foreach (var op in ops)
        {
            var input = op.Read ? KvInput.Get(op.Key) : KvInput.Put(op.Key, op.Value!);
            switch (op.Outcome)
            {
                case OpOutcome.Ok:
                    history.Add(new KvOperation(op.ClientId, input, op.CallMs, op.ReturnMs,
                        op.Read ? KvOutput.Read(op.Result.Found ? op.Result.Value : null) : KvOutput.Ack));
                    break;
                case OpOutcome.Unknown when !op.Read:
                    history.Add(KvOperation.Unknown(op.ClientId, input, op.CallMs));
                    break;
            }
        }
        return history;
    }

    /// <summary>The writes for <see cref="BenchKvVerification.Check"/>: acknowledged ones with their index, unknown ones without.</summary>
    public static IReadOnlyList<BenchKvVerification.WriteRecord> Writes(IEnumerable<OpRecord> ops) =>
        ops.Where(o => !o.Read && o.Outcome != OpOutcome.NotApplied)
            .Select(o => new BenchKvVerification.WriteRecord(o.Key, o.ClientId, o.Seq, o.Outcome == OpOutcome.Ok ? o.Result.Index : null))
            .ToList();
}

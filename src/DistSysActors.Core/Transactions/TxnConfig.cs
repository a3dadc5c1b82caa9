namespace DistSysActors.Core.Transactions;

/// <summary>The timing and limits of the transaction roles (all in milliseconds of the host's clock).</summary>
public sealed record TxnConfig
{
    /// <summary>The coordinator aborts a transaction whose votes have not all come in by then.</summary>
    public long VoteTimeoutMs { get; init; } = 2_000;

    /// <summary>How often an unanswered message (PREPARE, PreCommit, a decision, a saga step) is sent again.</summary>
    public long RetryMs { get; init; } = 200;

    /// <summary>A participant that voted YES and heard nothing for this long is in doubt: it asks (2PC) or terminates (3PC).</summary>
    public long DecisionTimeoutMs { get; init; } = 1_000;

    /// <summary>A 3PC coordinator that has not all PreCommit acknowledgements by then commits anyway (the textbook's rule).</summary>
    public long PreCommitTimeoutMs { get; init; } = 1_000;

    /// <summary>A prepare that meets a held lock waits this long, then votes NO: breaks distributed deadlocks.</summary>
    public long LockTimeoutMs { get; init; } = 1_000;

    /// <summary>How long a 3PC terminator collects its peers' states before it decides.</summary>
    public long TerminationPollMs { get; init; } = 300;

    /// <summary>Outcomes a participant and a coordinator remember in memory (for duplicates and queries), oldest forgotten first.</summary>
    public int OutcomesMax { get; init; } = 100_000;
}

namespace DistSysActors.Core.Gossip;

/// <summary>The anti-entropy store's knobs; every size has a limit.</summary>
public sealed record ApStoreConfig
{
    /// <summary>How often a node opens a push-pull exchange with one random peer.</summary>
    public int ExchangeIntervalMs { get; init; } = 200;

    /// <summary>
    /// How long a tombstone is kept (by its timestamp's wall time) before it is purged. A replica cut off for longer than
    /// this can bring a deleted key back with its old value, so it must exceed the longest partition to be tolerated
    /// (Cassandra's gc_grace_seconds plays the same part). Default 10 minutes.
    /// </summary>
    public long TombstoneTtlMs { get; init; } = 600_000;

    public int KeysMax { get; init; } = 10_000;
    public int KeyLengthMax { get; init; } = 256;
    public int ValueBytesMax { get; init; } = 64 * 1024;

    /// <summary>At most this many entries (or wanted keys) in one delta; the rest follow in later exchanges.</summary>
    public int EntriesPerMessageMax { get; init; } = 1_000;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ExchangeIntervalMs < 1) errors.Add($"ExchangeIntervalMs must be at least 1, was {ExchangeIntervalMs}");
        if (TombstoneTtlMs < 1) errors.Add($"TombstoneTtlMs must be at least 1, was {TombstoneTtlMs}");
        if (KeysMax < 1) errors.Add($"KeysMax must be at least 1, was {KeysMax}");
        if (KeyLengthMax < 1) errors.Add($"KeyLengthMax must be at least 1, was {KeyLengthMax}");
        if (ValueBytesMax < 0) errors.Add($"ValueBytesMax must not be negative, was {ValueBytesMax}");
        if (EntriesPerMessageMax < 1) errors.Add($"EntriesPerMessageMax must be at least 1, was {EntriesPerMessageMax}");
        return errors;
    }
}

namespace DistSysActors.Core.Gossip;

/// <summary>
/// The SWIM core's knobs, with memberlist-like defaults. Every time is in the host's milliseconds; every table has a limit.
/// </summary>
public sealed record SwimConfig
{
    /// <summary>One protocol period: one probe of one member (SWIM's T').</summary>
    public int PeriodMs { get; init; } = 1_000;

    /// <summary>How long a direct probe waits for its ack before asking <see cref="IndirectProbes"/> members to probe (must be under the period).</summary>
    public int PingTimeoutMs { get; init; } = 300;

    /// <summary>k: how many members are asked to probe a target that did not answer directly.</summary>
    public int IndirectProbes { get; init; } = 3;

    /// <summary>λ: each update is piggybacked λ·⌈log10(N+1)⌉ times by each node that learns it (memberlist's retransmit multiplier).</summary>
    public int RetransmitMult { get; init; } = 4;

    /// <summary>At most this many updates ride on one message.</summary>
    public int PiggybackMax { get; init; } = 8;

    /// <summary>α: the shortest suspicion timeout is α·max(1, log10 N) periods (Lifeguard section 3.3).</summary>
    public int SuspicionMult { get; init; } = 5;

    /// <summary>β: the longest suspicion timeout, with no independent confirmation, is β times the shortest.</summary>
    public int SuspicionMaxMult { get; init; } = 3;

    /// <summary>Every this many periods a node exchanges its whole view with a random member, the dead included (0: never).</summary>
    public int SyncEveryRounds { get; init; } = 10;

    /// <summary>Indirect probes this node may be relaying at once for others.</summary>
    public int RelaysMax { get; init; } = 1_024;

    /// <summary>Members a view may hold.</summary>
    public int MembersMax { get; init; } = 10_000;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (PeriodMs < 1) errors.Add($"PeriodMs must be at least 1, was {PeriodMs}");
        if (PingTimeoutMs < 1 || PingTimeoutMs >= PeriodMs) errors.Add($"PingTimeoutMs must be within 1..PeriodMs-1, was {PingTimeoutMs}");
        if (IndirectProbes < 0) errors.Add($"IndirectProbes must not be negative, was {IndirectProbes}");
        if (RetransmitMult < 1) errors.Add($"RetransmitMult must be at least 1, was {RetransmitMult}");
        if (PiggybackMax < 1) errors.Add($"PiggybackMax must be at least 1, was {PiggybackMax}");
        if (SuspicionMult < 1) errors.Add($"SuspicionMult must be at least 1, was {SuspicionMult}");
        if (SuspicionMaxMult < 1) errors.Add($"SuspicionMaxMult must be at least 1, was {SuspicionMaxMult}");
        if (SyncEveryRounds < 0) errors.Add($"SyncEveryRounds must not be negative, was {SyncEveryRounds}");
        if (RelaysMax < 1) errors.Add($"RelaysMax must be at least 1, was {RelaysMax}");
        if (MembersMax < 1) errors.Add($"MembersMax must be at least 1, was {MembersMax}");
        return errors;
    }

    /// <summary>How many times one node piggybacks one update in a group of <paramref name="members"/>: λ·⌈log10(N+1)⌉.</summary>
    public int RetransmitLimit(int members) => RetransmitMult * (int)Math.Ceiling(Math.Log10(members + 1));

    /// <summary>The shortest suspicion timeout in a group of <paramref name="members"/>: α·max(1, log10 N)·period.</summary>
    public long SuspicionMinMs(int members) => (long)(SuspicionMult * Math.Max(1.0, Math.Log10(Math.Max(1, members))) * PeriodMs);

    /// <summary>The suspicion timeout with no independent confirmation: β times the shortest.</summary>
    public long SuspicionMaxMs(int members) => SuspicionMaxMult * SuspicionMinMs(members);

    /// <summary>K: how many independent confirmations bring the timeout down to its minimum (α - 2, at most N - 2, at least 0).</summary>
    public int ConfirmationsExpected(int members) => Math.Max(0, Math.Min(SuspicionMult - 2, members - 2));

    /// <summary>
    /// Lifeguard's shrinking timeout (section 3.3): max - (max - min)·log(C + 1)/log(K + 1) for C confirmations beyond the
    /// first suspicion, never under min; with K = 0 it is min at once.
    /// </summary>
    public long SuspicionTimeoutMs(int members, int confirmations)
    {
        long min = SuspicionMinMs(members), max = SuspicionMaxMs(members);
        var k = ConfirmationsExpected(members);
        if (k == 0) return min;
        var fraction = Math.Log(Math.Min(confirmations, k) + 1) / Math.Log(k + 1);
        return Math.Max(min, (long)Math.Floor(max - (max - min) * fraction));
    }
}

namespace DistSysActors.Simulation;

/// <summary>Settings of one simulation run. Every limit is explicit so a runaway scenario fails instead of hanging.</summary>
public sealed record SimulatorOptions
{
    /// <summary>Seed of every random decision in the run (latency, faults, node random sources, tick phases).</summary>
    public long Seed { get; init; }

    /// <summary>Virtual time between two ticks of one node.</summary>
    public int TickIntervalMs { get; init; } = 10;

    /// <summary>Wire latency applied to every message on top of any fault delay, uniform in [min, max].</summary>
    public int LatencyMinMs { get; init; } = 1;
    public int LatencyMaxMs { get; init; } = 5;

    /// <summary>
    /// Time a write handed to a node's simulated disk (<see cref="ISimContext{TMessage}.Write"/>) takes to become durable,
    /// uniform in [min, max] and FIFO per node. Both 0: a synchronous disk (durable before Write returns).
    /// </summary>
    public int WriteLatencyMinMs { get; init; } = 1;
    public int WriteLatencyMaxMs { get; init; } = 4;

    /// <summary>
    /// Chance that a crash tears the write being made durable instead of losing it: a proper prefix of its records
    /// persists (what a torn journal batch leaves). Writes queued behind it are always lost.
    /// </summary>
    public double TornWriteRate { get; init; }

    /// <summary>Limit on events waiting in the queue at once (messages in flight, ticks, scheduled actions).</summary>
    public int EventsQueuedMax { get; init; } = 1_000_000;

    /// <summary>Limit on events processed over the whole run, which catches zero-latency livelocks.</summary>
    public long EventsProcessedMax { get; init; } = 100_000_000;

    /// <summary>Size of the ring of recent trace events kept for failure reports.</summary>
    public int TraceEventsMax { get; init; } = 200;

    /// <summary>How many of the most recent trace events a failure message prints.</summary>
    public int TraceEventsReportedMax { get; init; } = 40;

    /// <summary>Whether ticks appear in the trace (off by default: they crowd out the messages that explain a failure).</summary>
    public bool TraceTicks { get; init; }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (TickIntervalMs < 1) errors.Add($"TickIntervalMs must be at least 1, was {TickIntervalMs}");
        if (LatencyMinMs < 0 || LatencyMaxMs < LatencyMinMs) errors.Add($"LatencyMinMs/LatencyMaxMs must satisfy 0 <= min <= max, were {LatencyMinMs}/{LatencyMaxMs}");
        if (WriteLatencyMinMs < 0 || WriteLatencyMaxMs < WriteLatencyMinMs) errors.Add($"WriteLatencyMinMs/WriteLatencyMaxMs must satisfy 0 <= min <= max, were {WriteLatencyMinMs}/{WriteLatencyMaxMs}");
        if (TornWriteRate is < 0 or > 1 || double.IsNaN(TornWriteRate)) errors.Add($"TornWriteRate must be within [0, 1], was {TornWriteRate}");
        if (EventsQueuedMax < 1) errors.Add($"EventsQueuedMax must be at least 1, was {EventsQueuedMax}");
        if (EventsProcessedMax < 1) errors.Add($"EventsProcessedMax must be at least 1, was {EventsProcessedMax}");
        if (TraceEventsMax < 1) errors.Add($"TraceEventsMax must be at least 1, was {TraceEventsMax}");
        if (TraceEventsReportedMax < 0) errors.Add($"TraceEventsReportedMax must not be negative, was {TraceEventsReportedMax}");
        return errors;
    }
}

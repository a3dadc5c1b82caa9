namespace DistSysActors.Actors.Protocol;

/// <summary>How a durable host waits for its journal.</summary>
public enum JournalWrites
{
    /// <summary>Commands wait while a Ready's writes are persisted (Akka's PersistAll): the core is stepped only between Readies.</summary>
    Blocking,

    /// <summary>
    /// Commands keep stepping the core while a Ready's writes are in flight (PersistAllAsync); the core buffers their
    /// effects for the next Ready. One Ready is outstanding at a time, so the journal still sees writes in order.
    /// </summary>
    Pipelined,
}

/// <summary>
/// How one of a core's writes reaches storage: an optional snapshot saved first (a state that replaces what the journal
/// holds, e.g. a snapshot installed from a leader), then journal events; <see cref="OnDurable"/> runs once all are durable.
/// </summary>
public sealed record JournalPlan(object? Snapshot, IReadOnlyList<object> Events, Action? OnDurable = null)
{
    public static JournalPlan Of(object journalEvent) => new(null, [journalEvent]);
}

/// <summary>Thrown by a durable protocol host whose journal rejected a write, so that its supervisor restarts it.</summary>
public sealed class JournalWriteRejectedException(string persistenceId, long sequenceNr, Exception cause)
    : Exception($"{persistenceId}: the journal rejected event {sequenceNr}", cause);

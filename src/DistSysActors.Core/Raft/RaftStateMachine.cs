using DistSysActors.Core.StateMachine;

namespace DistSysActors.Core.Raft;

/// <summary>Feeding committed Raft entries into a state machine that knows nothing of Raft.</summary>
public static class RaftStateMachine
{
    /// <summary>Applies a committed entry: a normal entry's data is a command; no-ops and membership changes only advance the index.</summary>
    public static TResult? Apply<TResult>(this IReplicatedStateMachine<TResult> machine, LogEntry entry) where TResult : class
    {
        ArgumentNullException.ThrowIfNull(entry);
        return machine.Apply(entry.Index, entry.Type == EntryType.Normal ? entry.Data : null);
    }
}

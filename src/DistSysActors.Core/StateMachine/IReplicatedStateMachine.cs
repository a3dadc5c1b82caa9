namespace DistSysActors.Core.StateMachine;

/// <summary>
/// A deterministic state machine that a consensus engine drives: it applies the committed commands in log order,
/// exactly once, and can be saved to and rebuilt from a snapshot. It knows nothing of the engine (Raft, Multi-Paxos):
/// a command is opaque bytes at a log index.
/// </summary>
/// <typeparam name="TResult">What applying one command produces for the host to answer its client with.</typeparam>
public interface IReplicatedStateMachine<TResult> where TResult : class
{
    /// <summary>The index of the last command applied (or restored from a snapshot); 0 for a new machine.</summary>
    long AppliedIndex { get; }

    /// <summary>
    /// Applies the committed entry at <paramref name="index"/>, which must be <see cref="AppliedIndex"/> + 1.
    /// <paramref name="command"/> is null for an entry that carries no command for the machine (the engine's own
    /// no-ops and membership changes): it only advances the index. Null when there is nothing to answer.
    /// </summary>
    TResult? Apply(long index, byte[]? command);

    /// <summary>The whole state (AppliedIndex included) in a versioned, deterministic form: equal states give equal bytes.</summary>
    byte[] Snapshot();

    /// <summary>Replaces the state with one made by <see cref="Snapshot"/>; FormatException, leaving the state unchanged, for bytes that are not one.</summary>
    void Restore(byte[] snapshot);
}

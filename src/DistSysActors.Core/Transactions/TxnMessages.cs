using System.Collections.Immutable;

namespace DistSysActors.Core.Transactions;

/// <summary>
/// The wire messages of 2PC, 3PC and sagas, and the durable records of their roles. Each message goes to one role on the
/// receiving node (<see cref="RoleOf"/>): the coordinator of <c>Id</c> or the participant that owns the ops' keys.
/// </summary>
public static class Txn
{
    public const string Service = "txn";

    public abstract record TxnMessage(NodeId From, TxnId Id) : IWireSerialized;

    // ---- coordinator -> participant ----

    /// <summary>2PC PREPARE / 3PC CanCommit: lock, stage <paramref name="Ops"/> and vote. <paramref name="Participants"/> lets an in-doubt participant ask its peers.</summary>
    public sealed record Prepare(NodeId From, TxnId Id, TxnProtocol Protocol, ImmutableArray<NodeId> Participants, ImmutableArray<TxnOp> Ops) : TxnMessage(From, Id);

    /// <summary>3PC PreCommit: everyone voted YES; acknowledge once durable.</summary>
    public sealed record PreCommit(NodeId From, TxnId Id) : TxnMessage(From, Id);

    /// <summary>The outcome: COMMIT / DoCommit or ABORT. Sent by the coordinator, or by a participant that terminated the transaction.</summary>
    public sealed record Decision(NodeId From, TxnId Id, bool Commit) : TxnMessage(From, Id);

    /// <summary>Saga: apply step <paramref name="Step"/> (its own local transaction), idempotently.</summary>
    public sealed record SagaStep(NodeId From, TxnId Id, int Step, ImmutableArray<TxnOp> Ops) : TxnMessage(From, Id);

    /// <summary>Saga: undo step <paramref name="Step"/> (or make sure it never applies), idempotently.</summary>
    public sealed record SagaCompensate(NodeId From, TxnId Id, int Step) : TxnMessage(From, Id);

    // ---- participant -> coordinator ----

    public sealed record Vote(NodeId From, TxnId Id, bool Yes, string? Reason) : TxnMessage(From, Id);

    public sealed record PreCommitAck(NodeId From, TxnId Id) : TxnMessage(From, Id);

    public sealed record DecisionAck(NodeId From, TxnId Id) : TxnMessage(From, Id);

    /// <summary>An in-doubt participant asks the coordinator for the outcome (presumed abort: no record means aborted).</summary>
    public sealed record DecisionQuery(NodeId From, TxnId Id) : TxnMessage(From, Id);

    public sealed record SagaStepResult(NodeId From, TxnId Id, int Step, bool Done, string? Reason) : TxnMessage(From, Id);

    public sealed record SagaCompensated(NodeId From, TxnId Id, int Step) : TxnMessage(From, Id);

    // ---- termination (cooperative 2PC, 3PC termination protocol) ----

    /// <summary>What is your state for <c>Id</c>? A participant with no record refuses the transaction (durably) and answers aborted.</summary>
    public sealed record StateRequest(NodeId From, TxnId Id, bool FromCoordinator) : TxnMessage(From, Id);

    /// <summary>The answer to a <see cref="StateRequest"/> or a <see cref="DecisionQuery"/>; <paramref name="ToCoordinator"/> routes it.</summary>
    public sealed record StateReply(NodeId From, TxnId Id, TxnState State, bool ToCoordinator) : TxnMessage(From, Id);

    public enum Role { Coordinator, Participant }

    public static Role RoleOf(TxnMessage message) => message switch
    {
        Prepare or PreCommit or Decision or SagaStep or SagaCompensate or StateRequest => Role.Participant,
        StateReply r => r.ToCoordinator ? Role.Coordinator : Role.Participant,
        _ => Role.Coordinator,
    };

    // ---- durable records: participant ----

    /// <summary>Voted YES (2PC PREPARED, 3PC uncertain): written with the staged writes before the vote leaves.</summary>
    public sealed record PreparedRecord(TxnId Id, TxnProtocol Protocol, ImmutableArray<NodeId> Participants, ImmutableArray<TxnWrite> Writes) : IWireSerialized;

    public sealed record PreCommittedRecord(TxnId Id) : IWireSerialized;

    /// <summary>The participant's outcome; commit applies the prepared writes. Without a prepared record: a durable refusal.</summary>
    public sealed record OutcomeRecord(TxnId Id, bool Committed) : IWireSerialized;

    /// <summary>A saga step run once: applied (its writes and the ops that undo them) or refused.</summary>
    public sealed record SagaStepRecord(TxnId Id, int Step, bool Applied, string? Reason, ImmutableArray<TxnWrite> Writes, ImmutableArray<TxnOp> Compensation) : IWireSerialized;

    /// <summary>A saga step undone (its undo writes), or cancelled before it ever applied (no writes).</summary>
    public sealed record SagaCompensationRecord(TxnId Id, int Step, ImmutableArray<TxnWrite> Writes) : IWireSerialized;

    // ---- durable records: coordinator ----

    /// <summary>The participants and their ops, logged before the first PREPARE (or saga step) leaves.</summary>
    /// <summary>With the client's Idempotency-Key and the request's fingerprint, when given: a retry finds the transaction by its key.</summary>
    public sealed record BeginRecord(TxnId Id, TxnProtocol Protocol, ImmutableArray<Branch> Branches, string? IdempotencyKey = null, string? Fingerprint = null) : IWireSerialized;

    /// <summary>The coordinator's decision (PreCommitted, Committed or Aborted), forced before it is sent.</summary>
    public sealed record DecisionRecord(TxnId Id, TxnState State, string? Reason) : IWireSerialized;

    /// <summary>Saga progress: step done, or compensated.</summary>
    public sealed record SagaProgressRecord(TxnId Id, int Step, bool Compensated) : IWireSerialized;

    /// <summary>Every participant acknowledged: nothing left to do for <c>Id</c>.</summary>
    public sealed record EndRecord(TxnId Id) : IWireSerialized;

    /// <summary>One participant's part of a transaction (a saga step).</summary>
    public sealed record Branch(NodeId Participant, ImmutableArray<TxnOp> Ops);

    // ---- local requests and answers (never leave the node) ----

        /// <summary>The client's answer: Committed, Aborted (with the reason) or, from a host's timeout, Unknown; Replayed when an Idempotency-Key found an earlier attempt.</summary>
    public sealed record TxnAnswer(long RequestId, TxnId Id, TxnState Outcome, string? Reason, bool Replayed = false);

    /// <summary>What <see cref="TxnCoordinator.Begin"/> did: started a transaction, found the one an Idempotency-Key names, or refused a reused key.</summary>
    public abstract record BeginResult;
    public sealed record Started(TxnId Id) : BeginResult;
    public sealed record FoundByKey(TxnId Id) : BeginResult;
    public sealed record KeyConflict(string Reason) : BeginResult;

    /// <summary>A role's whole state at once (a host's snapshot): the last id issued, the committed values, then records that replay the rest.</summary>
    public sealed record TxnSnapshot(long LastSeq, ImmutableArray<TxnWrite> Store, ImmutableArray<object> Records) : IWireSerialized;

    public sealed record ParticipantView(NodeId Participant, TxnState State);

    public sealed record TxnView(TxnId Id, TxnProtocol Protocol, TxnState State, string? Reason, ImmutableArray<ParticipantView> Participants);

    /// <summary>A transaction this participant voted YES for and has no outcome of yet, with the locks it holds.</summary>
    public sealed record InDoubt(TxnId Id, TxnProtocol Protocol, TxnState State, long AgeMs, ImmutableArray<string> Locks);
}

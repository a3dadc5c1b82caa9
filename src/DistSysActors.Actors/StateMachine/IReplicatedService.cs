using Akka.Actor;

namespace DistSysActors.Actors.StateMachine;

/// <summary>What a consensus replica actor offers the replicated service it hosts: a log to propose into and read points.</summary>
public interface IConsensusLog
{
    /// <summary>True while this replica leads.</summary>
    bool IsLeader { get; }

    /// <summary>Null when the command was appended here or passed on to the leader; otherwise why nothing was done.</summary>
    string? Propose(byte[] command);

    /// <summary>
    /// How far behind this replica's applied state is, in ms: 0 when it has applied every commit it knows of; null when
    /// it cannot tell (it hears from no leader, or the log does not measure it: the default). Bounded-staleness reads are
    /// served locally only within their bound.
    /// </summary>
    long? LagMs => null;

    /// <summary>Asks for a linearizable read point (a lease read when <paramref name="lease"/>); the answer comes through ReadConfirmed or ReadDropped.</summary>
    void ConfirmRead(long requestId, bool lease);
}

/// <summary>
/// A replicated state-machine service hosted inside a consensus replica actor (a plain class, run on the actor's thread):
/// it takes client requests, proposes commands through <see cref="IConsensusLog"/>, and applies the committed ones in
/// log order, answering its clients. The replica calls it only between its own steps, so no message crosses between them.
/// </summary>
public interface IReplicatedService
{
    /// <summary>The index of the last entry applied (or restored from a snapshot).</summary>
    long AppliedIndex { get; }

    /// <summary>The state machine's snapshot at <see cref="AppliedIndex"/>.</summary>
    byte[] Snapshot();

    /// <summary>Replaces the state with a snapshot; requests waiting for entries it covers stay until their deadline or a later apply.</summary>
    void Restore(byte[] snapshot);

    /// <summary>Applies the committed entry at index (AppliedIndex + 1); command null for an entry with none (no-op, membership change).</summary>
    void Apply(long index, byte[]? command);

    /// <summary>A read asked for with <see cref="IConsensusLog.ConfirmRead"/> may be served now (everything it must see is applied).</summary>
    void ReadConfirmed(long requestId);

    /// <summary>A read asked for could not be confirmed (no leader, or leadership changed).</summary>
    void ReadDropped(long requestId);

    /// <summary>Client requests and the service's own timer messages; false when the message is not one of them.</summary>
    bool Receive(object message, IActorRef sender);

    /// <summary>Messages the host sends itself periodically and hands back through <see cref="Receive"/>.</summary>
    IReadOnlyList<(object Message, TimeSpan Interval)> Timers { get; }

    /// <summary>This replica has just become the leader.</summary>
    void LeadershipGained();

    /// <summary>A leader (this replica or another) is known now, different from the last one: proposals still waiting may be sent again.</summary>
    void LeaderChanged();

    /// <summary>Answers the requests whose deadline passed.</summary>
    void Expire(DateTime now);

    ServiceStatus Status { get; }
}

/// <summary>Requests waiting for an answer, and client sessions in the replicated state.</summary>
public sealed record ServiceStatus(int PendingWrites, int PendingReads, int Sessions);

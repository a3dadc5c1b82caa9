namespace DistSysActors.Core.Paxos;

/// <summary>
/// Basic (single-decree) Paxos on named write-once registers: one Paxos instance per register name. Messages carry the
/// name; each goes to one role on the receiving node (<see cref="RoleOf"/>).
/// </summary>
public static class RegisterPaxos
{
    public const string Service = "paxos-register";
    public const int NameBytesMax = 256;
    public const int ValueBytesMax = 64 * 1024;

    public abstract record RegisterMessage(NodeId From, string Name) : IWireSerialized;

    /// <summary>Phase 1a: the proposer asks acceptors to promise to ignore ballots below <paramref name="Ballot"/>.</summary>
    public sealed record Prepare(NodeId From, string Name, Ballot Ballot) : RegisterMessage(From, Name);

    /// <summary>Phase 1b: the acceptor promised <paramref name="Ballot"/> and reports what it accepted before (Zero and null: nothing).</summary>
    public sealed record Promise(NodeId From, string Name, Ballot Ballot, Ballot AcceptedBallot, string? AcceptedValue) : RegisterMessage(From, Name);

    /// <summary>Phase 2a: the proposer asks acceptors to accept <paramref name="Value"/> at <paramref name="Ballot"/>.</summary>
    public sealed record Accept(NodeId From, string Name, Ballot Ballot, string Value) : RegisterMessage(From, Name);

    /// <summary>Phase 2b: the acceptor accepted the proposal at <paramref name="Ballot"/>.</summary>
    public sealed record Accepted(NodeId From, string Name, Ballot Ballot) : RegisterMessage(From, Name);

    /// <summary>The acceptor refused <paramref name="Ballot"/> because it promised the higher <paramref name="Promised"/> (a nack).</summary>
    public sealed record Rejected(NodeId From, string Name, Ballot Ballot, Ballot Promised) : RegisterMessage(From, Name);

    /// <summary>To learners: a majority accepted <paramref name="Value"/> at <paramref name="Ballot"/>; it is chosen.</summary>
    public sealed record Chosen(NodeId From, string Name, Ballot Ballot, string Value) : RegisterMessage(From, Name);

    /// <summary>To a learner: tell me the chosen value if you know it (catch-up; answered with <see cref="Chosen"/>).</summary>
    public sealed record LearnRequest(NodeId From, string Name) : RegisterMessage(From, Name);

    public enum Role { Proposer, Acceptor, Learner }

    /// <summary>The role on the receiving node a message is for.</summary>
    public static Role RoleOf(RegisterMessage message) => message switch
    {
        Prepare or Accept => Role.Acceptor,
        Promise or Accepted or Rejected => Role.Proposer,
        _ => Role.Learner,
    };

    // ---- durable records (each written before the message that depends on it leaves) ----

    /// <summary>An acceptor's whole state for one register: its promise and its acceptance.</summary>
    public sealed record AcceptorRecord(string Name, Ballot Promised, Ballot AcceptedBallot, string? AcceptedValue) : IWireSerialized;

    /// <summary>The highest round this node's proposer used: a restarted proposer starts above it, so its ballots stay unique.</summary>
    public sealed record RoundRecord(long Round) : IWireSerialized;

    /// <summary>A value this node's learner knows to be chosen.</summary>
    public sealed record ChosenRecord(string Name, Ballot Ballot, string Value) : IWireSerialized;

    /// <summary>A role's whole durable state at once (a host's snapshot): the proposer's round, the acceptor's and the learner's records.</summary>
    public sealed record RoleSnapshot(long RoundUsed, System.Collections.Immutable.ImmutableArray<AcceptorRecord> Acceptor, System.Collections.Immutable.ImmutableArray<ChosenRecord> Chosen) : IWireSerialized;

    // ---- local requests and answers (never leave the node) ----

    /// <summary>Proposes <paramref name="Value"/> for register <paramref name="Name"/>; null runs a read round (learns the chosen value, if any, without proposing one).</summary>
    public sealed record Propose(long RequestId, string Name, string? Value);

    /// <summary>
    /// The answer to <see cref="Propose"/>: the chosen value (perhaps another proposer's) and the ballot this node saw it
    /// chosen at; Value null after a read round that found nothing accepted. Phases lists what the proposer did.
    /// </summary>
    public sealed record Outcome(long RequestId, string Name, string? Value, Ballot Ballot, IReadOnlyList<string> Phases);

    /// <summary>The proposer gave up (attempts or its limit on proposals in progress); nothing is known about the register.</summary>
    public sealed record NotDecided(long RequestId, string Name, string Reason, IReadOnlyList<string> Phases);

    /// <summary>Announcement: this node's learner learned that <paramref name="Value"/> is chosen for <paramref name="Name"/>.</summary>
    public sealed record Learned(string Name, string Value, Ballot Ballot);

    /// <summary>Announcement of each step a proposer takes (the duel's transcript).</summary>
    public sealed record PhaseEvent(NodeId Node, string Name, Ballot Ballot, string Text);
}

/// <summary>Where a role puts its effects; the core around it routes messages to this node's own roles locally.</summary>
public interface IRegisterEffects
{
    void Send(NodeId to, RegisterPaxos.RegisterMessage message);

    /// <summary>Durable before any message sent after it in the same Ready leaves.</summary>
    void Persist(object record);

    void Answer(object answer);
}

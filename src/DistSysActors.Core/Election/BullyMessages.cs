using System.Collections.Immutable;

namespace DistSysActors.Core.Election;

/// <summary>
/// The Bully algorithm's messages (Garcia-Molina, "Elections in a Distributed Computing System", 1982) and its local queries.
/// </summary>
public static class BullyProtocol
{
    public const string Service = "bully";

    public abstract record BullyMessage(NodeId From) : IWireSerialized;

    /// <summary>"I am holding an election": sent only to higher ids.</summary>
    public sealed record Election(NodeId From) : BullyMessage(From);

    /// <summary>A higher id's reply to <see cref="Election"/>: "I am alive and will take over".</summary>
    public sealed record Answer(NodeId From) : BullyMessage(From);

    /// <summary>"I am the coordinator": sent by the winner to everyone, and repeated as its heartbeat.</summary>
    public sealed record Coordinator(NodeId From) : BullyMessage(From);

    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>One node's view: its state, the leader it follows (itself when leading), and how often it has campaigned.</summary>
    public sealed record Status(NodeId Self, BullyState State, NodeId? LeaderId, long ElectionsStarted, long? LeaderSinceMs, ImmutableArray<NodeId> Peers);
}

public enum BullyState
{
    /// <summary>Has not run its first election yet.</summary>
    Starting,
    /// <summary>Sent Election to every higher id and waits for an Answer.</summary>
    Electing,
    /// <summary>A higher id answered: waits for its Coordinator message.</summary>
    AwaitingCoordinator,
    /// <summary>Follows a coordinator it hears from.</summary>
    Follower,
    Leader,
}

/// <summary>The Bully timeouts, in ms of the host's clock.</summary>
/// <param name="AnswerTimeoutMs">How long an electing node waits for an Answer before it declares itself coordinator.</param>
/// <param name="CoordinatorTimeoutMs">How long a node that was answered waits for the Coordinator before it starts again.</param>
/// <param name="HeartbeatIntervalMs">How often the coordinator repeats its Coordinator message.</param>
/// <param name="LeaderTimeoutMs">A follower that has not heard its coordinator for this long starts an election.</param>
public sealed record BullyConfig(long AnswerTimeoutMs = 500, long CoordinatorTimeoutMs = 1_000, long HeartbeatIntervalMs = 300, long LeaderTimeoutMs = 1_200)
{
    public static readonly BullyConfig Default = new();

    public void Validate()
    {
        if (AnswerTimeoutMs <= 0 || CoordinatorTimeoutMs <= 0 || HeartbeatIntervalMs <= 0) throw new ArgumentException("Bully timeouts must be positive");
        if (LeaderTimeoutMs <= HeartbeatIntervalMs) throw new ArgumentException("the leader timeout must exceed the heartbeat interval");
    }
}

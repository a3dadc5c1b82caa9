namespace DistSysActors.Core.Protocol;

/// <summary>
/// The effects of one <see cref="IProtocolCore{TMessage,TReady}.TakeReady"/>, in the order the host executes them
/// (<see cref="ReadyExecutor"/>):
/// <list type="number">
/// <item>send <see cref="MessagesBeforePersist"/>: traffic that promises nothing about this node's disk;</item>
/// <item>persist <see cref="Writes"/> in order and make them durable;</item>
/// <item>send <see cref="MessagesAfterPersist"/>: traffic that promises what step 2 stored;</item>
/// <item>apply <see cref="Applies"/> to the host's state machine, in order;</item>
/// <item>deliver <see cref="Answers"/>: replies to local requests and announcements (events, logs);</item>
/// <item>call <see cref="IProtocolCore{TMessage,TReady}.Advance"/> with this Ready.</item>
/// </list>
/// A core's own Ready implements this, keeping its typed fields for callers that want them.
/// </summary>
public interface IReady<TMessage>
{
    IReadOnlyList<Outgoing<TMessage>> MessagesBeforePersist { get; }

    /// <summary>What must be durable before <see cref="MessagesAfterPersist"/> leave; each item is one journal event.</summary>
    IReadOnlyList<object> Writes { get; }

    IReadOnlyList<Outgoing<TMessage>> MessagesAfterPersist { get; }

    /// <summary>Entries for the host's state machine (committed commands, processed deliveries, snapshots to restore).</summary>
    IReadOnlyList<object> Applies { get; }

    /// <summary>Replies and announcements: answers to local requests, verdict changes, clock adjustments.</summary>
    IReadOnlyList<object> Answers { get; }
}

/// <summary>A Ready for cores with no typed fields of their own.</summary>
public sealed record ProtocolReady<TMessage>(
    IReadOnlyList<Outgoing<TMessage>> MessagesBeforePersist,
    IReadOnlyList<object> Writes,
    IReadOnlyList<Outgoing<TMessage>> MessagesAfterPersist,
    IReadOnlyList<object> Applies,
    IReadOnlyList<object> Answers) : IReady<TMessage>
{
    public static readonly ProtocolReady<TMessage> Empty = new([], [], [], [], []);

    public bool IsEmpty => MessagesBeforePersist.Count == 0 && Writes.Count == 0 && MessagesAfterPersist.Count == 0 && Applies.Count == 0 && Answers.Count == 0;
}

using Akka.Actor;
using Akka.Persistence;
using DistSysActors.Core;

namespace DistSysActors.Actors.Persistence;

/// <summary>
/// Counts this node's starts in its journal: every start persists one <see cref="Started"/> event, so the
/// incarnation shown in /status proves the node recovered its persisted state after a restart or kill -9.
/// </summary>
public sealed class IncarnationActor : ReceivePersistentActor
{
    public sealed record Started(long Incarnation, DateTimeOffset AtUtc) : IWireSerialized;

    public sealed record GetIncarnation
    {
        public static readonly GetIncarnation Instance = new();
    }

    /// <summary>The current incarnation (0 until the start event is durable), and when the previous one started.</summary>
    public sealed record Incarnation(long Number, DateTimeOffset? PreviousStartUtc);

    private long _incarnation;
    private DateTimeOffset? _previousStart, _lastStart;
    private bool _durable;

    public override string PersistenceId { get; }

    public IncarnationActor(int nodeId)
    {
        PersistenceId = $"node-{nodeId}-incarnation";
        Recover<Started>(e => { _incarnation = e.Incarnation; _lastStart = e.AtUtc; });
        Recover<RecoveryCompleted>(_ =>
        {
            _previousStart = _lastStart;
            Persist(new Started(_incarnation + 1, DateTimeOffset.UtcNow), e => { _incarnation = e.Incarnation; _durable = true; });
        });
        Command<GetIncarnation>(_ => Sender.Tell(new Incarnation(_durable ? _incarnation : 0, _previousStart)));
    }

    public static Props Props(int nodeId) => Akka.Actor.Props.Create(() => new IncarnationActor(nodeId));
}

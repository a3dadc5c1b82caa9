using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.FailureDetection;

namespace DistSysActors.Actors.FailureDetection;

/// <summary>Binary form of the failure detector's wire messages (<see cref="HeartbeatMessage"/>); bound in the reference configuration.</summary>
public sealed class HeartbeatSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4172;

    internal static readonly ManifestTable Format = new(Id, nameof(HeartbeatSerializer), version: 1,
        ManifestEntry.Of<HeartbeatRequest>("HQ", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int32(m.To.Value);
            w.Int64(m.SequenceNr);
            w.Int64(m.SentAtMs);
        }, static (ref r) => new HeartbeatRequest(new NodeId(r.Int32()), new NodeId(r.Int32()), r.Int64(), r.Int64())),
        ManifestEntry.Of<HeartbeatResponse>("HR", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int32(m.To.Value);
            w.Int64(m.SequenceNr);
            w.Int64(m.RequestSentAtMs);
        }, static (ref r) => new HeartbeatResponse(new NodeId(r.Int32()), new NodeId(r.Int32()), r.Int64(), r.Int64())));

    public override int Identifier => Id;
}

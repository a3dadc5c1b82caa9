using Akka.Actor;
using DistSysActors.Core.Ping;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;

namespace DistSysActors.Actors.Ping;

/// <summary>Binary form of the ping protocol's wire messages (<see cref="PingProtocol.PingMessage"/>); bound in the reference configuration.</summary>
public sealed class PingSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4174;

    internal static readonly ManifestTable Format = new(Id, nameof(PingSerializer), version: 1,
        ManifestEntry.Of<PingProtocol.Ping>("PI", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Seq);
            w.Int64(m.SentAtMs);
        }, static (ref r) => new PingProtocol.Ping(new NodeId(r.Int32()), r.Int64(), r.Int64())),
        ManifestEntry.Of<PingProtocol.Pong>("PO", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Seq);
            w.Int64(m.SentAtMs);
        }, static (ref r) => new PingProtocol.Pong(new NodeId(r.Int32()), r.Int64(), r.Int64())));

    public override int Identifier => Id;
}

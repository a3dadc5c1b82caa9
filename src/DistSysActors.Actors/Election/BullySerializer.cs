using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Election;

namespace DistSysActors.Actors.Election;

/// <summary>Binary form of the Bully election's wire messages (<see cref="BullyProtocol.BullyMessage"/>); bound in the reference configuration.</summary>
public sealed class BullySerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4182;

    internal static readonly ManifestTable Format = new(Id, nameof(BullySerializer), version: 1,
        ManifestEntry.Of<BullyProtocol.Election>("E", static (m, ref w) => w.Int32(m.From.Value), static (ref r) => new BullyProtocol.Election(new NodeId(r.Int32()))),
        ManifestEntry.Of<BullyProtocol.Answer>("A", static (m, ref w) => w.Int32(m.From.Value), static (ref r) => new BullyProtocol.Answer(new NodeId(r.Int32()))),
        ManifestEntry.Of<BullyProtocol.Coordinator>("C", static (m, ref w) => w.Int32(m.From.Value), static (ref r) => new BullyProtocol.Coordinator(new NodeId(r.Int32()))));

    public override int Identifier => Id;
}

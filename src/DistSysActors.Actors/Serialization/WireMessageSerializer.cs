using Akka.Actor;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Serialization;

/// <summary>
/// Binary form of the envelope one network component hands to another (<see cref="WireMessage"/>): version, from, to,
/// service, the optional HLC stamp, then the payload through whatever serializer Akka binds to it (id, manifest,
/// bytes), so any protocol's payload travels. Payloads of a <see cref="BinarySerializer"/> are written in place,
/// without an intermediate array.
/// </summary>
public sealed class WireMessageSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4171;

    internal static readonly ManifestTable Format = new(Id, nameof(WireMessageSerializer), version: 1,
        ManifestEntry.Of<WireMessage>("W", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int32(m.To.Value);
            w.String(m.Service);
            w.Bool(m.Hlc.HasValue);
            if (m.Hlc is { } hlc)
            {
                w.Int64(hlc.WallMs);
                w.Int64(hlc.Logical);
            }
            w.Payload(m.Payload);
        }, static (ref r) =>
        {
            var (from, to, service) = (new NodeId(r.Int32()), new NodeId(r.Int32()), r.String());
            HlcTimestamp? hlc = r.Bool() ? new HlcTimestamp(r.Int64(), r.Int64()) : null;
            return new WireMessage(from, to, service, r.Payload(), hlc);
        }));

    public override int Identifier => Id;
}

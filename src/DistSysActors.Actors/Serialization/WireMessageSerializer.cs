using Akka.Actor;
using Akka.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Serialization;

/// <summary>
/// Binary form of the envelope one network component hands to another (<see cref="WireMessage"/>): version, from, to,
/// service, the optional HLC stamp, then the payload through whatever serializer Akka binds to it (id, manifest,
/// bytes), so any protocol's payload travels. Raft payloads are written in place by <see cref="RaftSerializer"/>,
/// without an intermediate array.
/// </summary>
public sealed class WireMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4171;

    private const string EnvelopeManifest = "W";

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        o is WireMessage ? EnvelopeManifest : throw new ArgumentException($"{nameof(WireMessageSerializer)} cannot serialize {o.GetType()}", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        if (obj is not WireMessage message) throw new ArgumentException($"{nameof(WireMessageSerializer)} cannot serialize {obj.GetType()}", nameof(obj));
        var payload = PayloadOf(message.Payload);
        var measure = FieldWriter.Measuring();
        Encode(message, payload, ref measure);
        var bytes = new byte[measure.Position];
        var writer = FieldWriter.Into(bytes);
        Encode(message, payload, ref writer);
        return bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest != EnvelopeManifest)
            throw new System.Runtime.Serialization.SerializationException($"{nameof(WireMessageSerializer)} does not know manifest '{manifest}'");
        var r = new FieldReader(bytes, "network envelope");
        if (r.Remaining == 0) throw r.Corrupt("no bytes");
        var version = r.Byte();
        if (version != RaftSerializer.Version) throw r.Corrupt($"unknown format version {version}");
        var (from, to, service) = (new NodeId(r.Int32()), new NodeId(r.Int32()), r.String());
        HlcTimestamp? hlc = r.Bool() ? new HlcTimestamp(r.Int64(), r.Int64()) : null;
        var (serializerId, payloadManifest) = (r.Int32(), r.String());
        var payloadBytes = r.BytesSpan();
        r.End();
        var payload = serializerId == RaftSerializer.Id
            ? RaftSerializer.Decode(payloadBytes, payloadManifest)
            : system.Serialization.Deserialize(payloadBytes.ToArray(), serializerId, payloadManifest);
        return new WireMessage(from, to, service, payload, hlc);
    }

    /// <summary>A payload's serializer id, manifest and length, and its bytes unless <see cref="RaftSerializer"/> writes it in place.</summary>
    private (int SerializerId, string Manifest, int Length, byte[]? Bytes) PayloadOf(object payload)
    {
        var serializer = system.Serialization.FindSerializerFor(payload);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, payload);
        if (serializer is not RaftSerializer)
        {
            var bytes = serializer.ToBinary(payload);
            return (serializer.Identifier, manifest, bytes.Length, bytes);
        }
        var measure = FieldWriter.Measuring();
        RaftSerializer.Encode(payload, ref measure);
        return (RaftSerializer.Id, manifest, measure.Position, null);
    }

    private static void Encode(WireMessage m, (int SerializerId, string Manifest, int Length, byte[]? Bytes) payload, ref FieldWriter w)
    {
        w.Byte(RaftSerializer.Version);
        w.Int32(m.From.Value);
        w.Int32(m.To.Value);
        w.String(m.Service);
        w.Bool(m.Hlc.HasValue);
        if (m.Hlc is { } hlc)
        {
            w.Int64(hlc.WallMs);
            w.Int64(hlc.Logical);
        }
        w.Int32(payload.SerializerId);
        w.String(payload.Manifest);
        w.Int32(payload.Length);
        var span = w.Reserve(payload.Length);
        if (w.IsMeasuring) return;
        if (payload.Bytes is { } bytes) bytes.CopyTo(span);
        else
        {
            var inner = FieldWriter.Into(span);
            RaftSerializer.Encode(m.Payload, ref inner);
        }
    }
}

using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Actors.Clocks;

/// <summary>
/// Binary form of the clock service's wire messages: NTP (<see cref="NtpMessage"/>), Berkeley (<see cref="BerkeleyMessage"/>)
/// and Cristian (<see cref="CristianMessage"/>); bound in the reference configuration. The hybrid logical clock's stamp
/// travels in the network envelope (<see cref="Serialization.WireMessageSerializer"/>).
/// </summary>
public sealed class ClockSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4173;

    internal static readonly ManifestTable Format = new(Id, nameof(ClockSerializer), version: 1,
        ManifestEntry.Of<NtpRequest>("NQ", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.RequestId);
            w.Int64(m.T1Ms);
        }, static (ref r) => new NtpRequest(new NodeId(r.Int32()), r.Int64(), r.Int64())),
        ManifestEntry.Of<NtpResponse>("NR", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.RequestId);
            w.Int64(m.T1Ms);
            w.Int64(m.T2Ms);
            w.Int64(m.T3Ms);
        }, static (ref r) => new NtpResponse(new NodeId(r.Int32()), r.Int64(), r.Int64(), r.Int64(), r.Int64())),
        ManifestEntry.Of<BerkeleyPoll>("BP", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Round);
        }, static (ref r) => new BerkeleyPoll(new NodeId(r.Int32()), r.Int64())),
        ManifestEntry.Of<BerkeleyTimeReport>("BR", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Round);
            w.Int64(m.ClockMs);
        }, static (ref r) => new BerkeleyTimeReport(new NodeId(r.Int32()), r.Int64(), r.Int64())),
        ManifestEntry.Of<BerkeleyAdjust>("BA", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Round);
            w.Double(m.DeltaMs);
        }, static (ref r) => new BerkeleyAdjust(new NodeId(r.Int32()), r.Int64(), r.Double())),
        ManifestEntry.Of<CristianTimeRequest>("CQ", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.RequestId);
        }, static (ref r) => new CristianTimeRequest(new NodeId(r.Int32()), r.Int64())),
        ManifestEntry.Of<CristianTimeResponse>("CR", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.RequestId);
            w.Int64(m.ServerTimeMs);
        }, static (ref r) => new CristianTimeResponse(new NodeId(r.Int32()), r.Int64(), r.Int64())));

    public override int Identifier => Id;
}

using Akka.Actor;
using DistSysActors.Actors.Serialization;

namespace DistSysActors.Actors.Persistence;

/// <summary>
/// Binary form of the incarnation counter's journal event (<see cref="IncarnationActor.Started"/>); bound in the
/// reference configuration. Events journaled earlier by Akka's JSON serializer still recover.
/// </summary>
public sealed class IncarnationSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers; journals store it, so it never changes.</summary>
    public const int Id = 4176;

    // Journals store this manifest with each event: never rename it.
    internal static readonly ManifestTable Format = new(Id, nameof(IncarnationSerializer), version: 1,
        ManifestEntry.Of<IncarnationActor.Started>("S", static (e, ref w) =>
        {
            w.Int64(e.Incarnation);
            // Clock ticks and offset, so the value comes back with the offset it had, not only the same instant.
            w.Int64(e.AtUtc.Ticks);
            w.Int32((int)e.AtUtc.Offset.TotalMinutes);
        }, static (ref r) =>
        {
            var (incarnation, ticks, offsetMinutes) = (r.Int64(), r.Int64(), r.Int32());
            try { return new IncarnationActor.Started(incarnation, new DateTimeOffset(ticks, TimeSpan.FromMinutes(offsetMinutes))); }
            catch (ArgumentException e) { throw r.Corrupt(e.Message); }
        }));

    public override int Identifier => Id;
}

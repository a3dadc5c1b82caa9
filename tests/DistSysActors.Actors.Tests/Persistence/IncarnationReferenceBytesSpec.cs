using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Tests.Serialization;

namespace DistSysActors.Actors.Tests.Persistence;

/// <summary>The incarnation serializer (id 4176) writes the start event to exactly these bytes, and reads it back with its offset.</summary>
public sealed class IncarnationReferenceBytesSpec : ReferenceBytesSpec
{
    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("Started", new IncarnationActor.Started(3, new DateTimeOffset(2025, 11, 24, 12, 0, 0, TimeSpan.Zero)), 4176, "S",
            "01", // version
            "0300000000000000", // incarnation
            "00607AFE502BDE08", // clock ticks of 2025-11-24T12:00:00
            "00000000"), // offset minutes
        Case("Started with an offset", new IncarnationActor.Started(4, new DateTimeOffset(2025, 11, 24, 14, 30, 0, TimeSpan.FromHours(2))), 4176, "S",
            "01", // version
            "0400000000000000", // incarnation
            "0064E5F2652BDE08", // clock ticks of 2025-11-24T14:30:00
            "78000000"), // offset minutes +02:00
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

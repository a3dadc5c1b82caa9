using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Tests.Serialization;

namespace DistSysActors.Actors.Tests.Hosting;

/// <summary>The seen-probe serializer (id 4185) writes the question and the answer to exactly these bytes, and reads them back.</summary>
public sealed class SeenProbeReferenceBytesSpec : ReferenceBytesSpec
{
    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("Question", new SeenProbe.Question(3), 4185, "Q", "01", "03000000"),
        Case("Answer", new SeenProbe.Answer(2, 5, 17, true, false, "http://h:1"), 4185, "A",
            "01", "02000000", "0500000000000000", "1100000000000000", "01", "00", "01", "0A000000", "687474703A2F2F683A31"),
        Case("Answer without an HTTP address", new SeenProbe.Answer(1, 0, 0, false, true), 4185, "A",
            "01", "01000000", "0000000000000000", "0000000000000000", "00", "01", "00"),
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

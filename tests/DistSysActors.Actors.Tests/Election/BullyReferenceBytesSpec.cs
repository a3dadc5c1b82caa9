using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Election;

namespace DistSysActors.Actors.Tests.Election;

/// <summary>The Bully serializer (id 4182) writes Election, Answer and Coordinator to exactly these bytes, and reads them back.</summary>
public sealed class BullyReferenceBytesSpec : ReferenceBytesSpec
{
    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("Election", new BullyProtocol.Election(new NodeId(2)), 4182, "E", "01", "02000000"),
        Case("Answer", new BullyProtocol.Answer(new NodeId(5)), 4182, "A", "01", "05000000"),
        Case("Coordinator", new BullyProtocol.Coordinator(new NodeId(300)), 4182, "C", "01", "2C010000"),
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

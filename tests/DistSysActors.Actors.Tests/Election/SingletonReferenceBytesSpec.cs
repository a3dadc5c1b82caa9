using DistSysActors.Actors.Election.Singleton;
using DistSysActors.Actors.Tests.Serialization;

namespace DistSysActors.Actors.Tests.Election;

/// <summary>The Cluster Singleton's serializer (id 4186) writes the proxy's question and the singleton's answer to exactly these bytes, and reads them back.</summary>
public sealed class SingletonReferenceBytesSpec : ReferenceBytesSpec
{
    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("GetInstance", SingletonProtocol.GetInstance.Default, 4186, "G", "01"),
        Case("Instance", new SingletonProtocol.Instance(3, "n3-17", 258), 4186, "I", "01", "03000000", "05000000", "6E332D3137", "0201000000000000"),
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

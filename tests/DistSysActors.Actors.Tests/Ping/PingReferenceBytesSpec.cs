using DistSysActors.Core.Ping;
using DistSysActors.Actors.Ping;
using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;

namespace DistSysActors.Actors.Tests.Ping;

/// <summary>The ping serializer (id 4174) writes pings and pongs to exactly these bytes, and reads them back.</summary>
public sealed class PingReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly NodeId A = new(1), B = new(7);

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("Ping", new PingProtocol.Ping(A, 3, 1_764_000_000_000), 4174, "PI",
            "01", // version
            "01000000", // from
            "0300000000000000", // seq
            "00E897B69A010000"), // sent at ms
        Case("Pong", new PingProtocol.Pong(B, 3, 1_764_000_000_000), 4174, "PO",
            "01", // version
            "07000000", // from
            "0300000000000000", // seq
            "00E897B69A010000"), // sent at ms
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

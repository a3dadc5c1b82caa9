using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.FailureDetection;

namespace DistSysActors.Actors.Tests.FailureDetection;

/// <summary>The heartbeat serializer (id 4172) writes the failure detector's messages to exactly these bytes, and reads them back.</summary>
public sealed class HeartbeatReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly NodeId A = new(1), B = new(7);

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("HeartbeatRequest", new HeartbeatRequest(A, B, 42, 1_764_000_000_000), 4172, "HQ",
            "01", // version
            "01000000", // from
            "07000000", // to
            "2A00000000000000", // sequence nr
            "00E897B69A010000"), // sent at ms
        Case("HeartbeatResponse", new HeartbeatResponse(B, A, 42, 1_764_000_000_000), 4172, "HR",
            "01", // version
            "07000000", // from
            "01000000", // to
            "2A00000000000000", // sequence nr
            "00E897B69A010000"), // request sent at ms
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

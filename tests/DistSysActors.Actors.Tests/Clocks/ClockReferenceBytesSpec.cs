using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Actors.Tests.Clocks;

/// <summary>The clock serializer (id 4173) writes the NTP, Berkeley and Cristian messages to exactly these bytes, and reads them back.</summary>
public sealed class ClockReferenceBytesSpec : ReferenceBytesSpec
{
    private const long T = 1_764_000_000_000;
    private static readonly NodeId A = new(1), B = new(7);

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("NtpRequest", new NtpRequest(B, 3, T), 4173, "NQ",
            "01", // version
            "07000000", // from
            "0300000000000000", // request id
            "00E897B69A010000"), // t1 ms
        Case("NtpRequest of a burst", new NtpRequest(B, -2, T), 4173, "NQ",
            "01", // version
            "07000000", // from
            "FEFFFFFFFFFFFFFF", // request id (burst)
            "00E897B69A010000"), // t1 ms
        Case("NtpResponse", new NtpResponse(A, 3, T, T + 5, T + 6), 4173, "NR",
            "01", // version
            "01000000", // from
            "0300000000000000", // request id
            "00E897B69A010000", // t1 ms
            "05E897B69A010000", // t2 ms
            "06E897B69A010000"), // t3 ms
        Case("BerkeleyPoll", new BerkeleyPoll(A, 12), 4173, "BP",
            "01", // version
            "01000000", // from
            "0C00000000000000"), // round
        Case("BerkeleyTimeReport", new BerkeleyTimeReport(B, 12, T), 4173, "BR",
            "01", // version
            "07000000", // from
            "0C00000000000000", // round
            "00E897B69A010000"), // clock ms
        Case("BerkeleyAdjust", new BerkeleyAdjust(A, 12, -1.25), 4173, "BA",
            "01", // version
            "01000000", // from
            "0C00000000000000", // round
            "000000000000F4BF"), // delta ms -1.25 (IEEE 754)
        Case("CristianTimeRequest", new CristianTimeRequest(B, 3), 4173, "CQ",
            "01", // version
            "07000000", // from
            "0300000000000000"), // request id
        Case("CristianTimeResponse", new CristianTimeResponse(A, 3, T), 4173, "CR",
            "01", // version
            "01000000", // from
            "0300000000000000", // request id
            "00E897B69A010000"), // server time ms
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Gossip;

namespace DistSysActors.Actors.Tests.Gossip;

/// <summary>The gossip serializer (id 4181) writes SWIM and anti-entropy messages to exactly these bytes, and reads them back.</summary>
public sealed class GossipReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly NodeId A = new(1), B = new(7);
    private static readonly MemberUpdate Suspect = new(B, MemberState.Suspect, 2, A);
    private static readonly ApVersion Version = new(new HlcTimestamp(1_764_000_000_000, 3), B);

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("SwimPing", new SwimPing(A, 5, [Suspect]), 4181, "SP",
            "01", "01000000", "0500000000000000", // version, from, seq
            "01000000", "07000000", "01", "0200000000000000", "01000000"), // 1 update: member, state, incarnation, reporter
        Case("SwimAck", new SwimAck(B, 5, []), 4181, "SA",
            "01", "07000000", "0500000000000000", "00000000"),
        Case("SwimPingReq", new SwimPingReq(A, 6, B, []), 4181, "SR",
            "01", "01000000", "0600000000000000", "07000000", "00000000"), // version, from, seq, target, no updates
        Case("SwimSync", new SwimSync(B, true, [Suspect with { State = MemberState.Dead }]), 4181, "SS",
            "01", "07000000", "01", // version, from, is reply
            "01000000", "07000000", "02", "0200000000000000", "01000000"),
        Case("ApDigest", new ApDigest(A, [new ApDigestEntry("k", Version)]), 4181, "AD",
            "01", "01000000", "01000000", // version, from, 1 entry
            "01000000", "6B", "00E897B69A010000", "0300000000000000", "07000000"), // key "k", hlc wall, logical, writer
        Case("ApDelta", new ApDelta(B, false, [new ApEntry("k", "v", Version), new ApEntry("d", null, Version)], ["w"]), 4181, "AE",
            "01", "07000000", "00", "02000000", // version, from, not a reply, 2 entries
            "01000000", "6B", "00E897B69A010000", "0300000000000000", "07000000", "01", "01000000", "76", // "k" = "v"
            "01000000", "64", "00E897B69A010000", "0300000000000000", "07000000", "00", // "d": tombstone
            "01000000", "01000000", "77"), // wanted: "w"
        Case("ApEntry", new ApEntry("k", "v", Version), 4181, "AJ",
            "01", "01000000", "6B", "00E897B69A010000", "0300000000000000", "07000000", "01", "01000000", "76"), // version, "k" = "v"
        Case("ApSnapshot", new ApSnapshot([new ApEntry("d", null, Version)]), 4181, "AN",
            "01", "01000000", // version, 1 entry
            "01000000", "64", "00E897B69A010000", "0300000000000000", "07000000", "00"), // "d": tombstone
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

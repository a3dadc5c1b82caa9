using System.Collections.Immutable;
using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Paxos;
using MP = DistSysActors.Core.Paxos.MultiPaxos;
using RP = DistSysActors.Core.Paxos.RegisterPaxos;

namespace DistSysActors.Actors.Tests.Paxos;

/// <summary>
/// The Paxos serializer (id 4177) writes every Multi-Paxos and register message and record to exactly these bytes, and
/// reads them back. Layout: a version byte, then the fields in order; a ballot is its round (int64) and node (int32), a
/// command or optional text a presence byte then int32-length-prefixed bytes.
/// </summary>
public sealed class PaxosReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly NodeId A = new(1), B = new(2);
    private static readonly Ballot Ballot3A = new(3, A);
    private static readonly byte[] Cmd = [0xC0, 0xDE];

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("MP.Prepare", new MP.Prepare(A, Ballot3A, 5), 4177, "MP", "01 01000000 0300000000000000 01000000 0500000000000000"),
        Case("MP.Promise", new MP.Promise(B, Ballot3A, 5, 4, [new AcceptedSlot(5, new Ballot(2, B), Cmd), new AcceptedSlot(6, Ballot3A, null)]), 4177, "MR",
            "01 02000000 0300000000000000 01000000 0500000000000000 0400000000000000",
            "02000000 0500000000000000 0200000000000000 02000000 01 02000000C0DE 0600000000000000 0300000000000000 01000000 00"),
        Case("MP.Accept", new MP.Accept(A, Ballot3A, 7, [Cmd, null], 6), 4177, "MA",
            "01 01000000 0300000000000000 01000000 0700000000000000 02000000 01 02000000C0DE 00 0600000000000000"),
        Case("MP.Accepted", new MP.Accepted(B, Ballot3A, 7, 8), 4177, "MD", "01 02000000 0300000000000000 01000000 0700000000000000 0800000000000000"),
        Case("MP.Rejected", new MP.Rejected(B, Ballot3A, new Ballot(4, B)), 4177, "MN", "01 02000000 0300000000000000 01000000 0400000000000000 02000000"),
        Case("MP.Heartbeat", new MP.Heartbeat(A, Ballot3A, 9, 11), 4177, "MH", "01 01000000 0300000000000000 01000000 0900000000000000 0B00000000000000"),
        Case("MP.HeartbeatAck", new MP.HeartbeatAck(B, Ballot3A, 11, 9), 4177, "MK", "01 02000000 0300000000000000 01000000 0B00000000000000 0900000000000000"),
        Case("MP.CatchUpRequest", new MP.CatchUpRequest(B, 4), 4177, "MC", "01 02000000 0400000000000000"),
        Case("MP.CatchUpReply", new MP.CatchUpReply(A, 5, [Cmd], new PaxosSnapshot(4, [0xAA])), 4177, "MU",
            "01 01000000 0500000000000000 01000000 01 02000000C0DE 01 0400000000000000 01000000AA"),
        Case("MP.Forward", new MP.Forward(B, [Cmd]), 4177, "MF", "01 02000000 01000000 02000000C0DE"),
        Case("MP.ReadRequest", new MP.ReadRequest(B, 12, true), 4177, "MQ", "01 02000000 0C00000000000000 01"),
        Case("MP.ReadReply", new MP.ReadReply(A, 12, 9), 4177, "MY", "01 01000000 0C00000000000000 0900000000000000"),
        Case("MP.PromisedRecord", new MP.PromisedRecord(Ballot3A), 4177, "JP", "01 0300000000000000 01000000"),
        Case("MP.AcceptedRecord", new MP.AcceptedRecord(Ballot3A, 7, [null]), 4177, "JA", "01 0300000000000000 01000000 0700000000000000 01000000 00"),
        Case("MP.RoundRecord", new MP.RoundRecord(3), 4177, "JR", "01 0300000000000000"),
        Case("MP.SnapshotRecord", new MP.SnapshotRecord(new PaxosSnapshot(4, [0xAA])), 4177, "JS", "01 01 0400000000000000 01000000AA"),
        Case("MP.PersistentState", new MP.PersistentState(Ballot3A, 3, null, [new AcceptedSlot(5, Ballot3A, Cmd)]), 4177, "JT",
            "01 0300000000000000 01000000 0300000000000000 00 01000000 0500000000000000 0300000000000000 01000000 01 02000000C0DE"),
        Case("RP.Prepare", new RP.Prepare(A, "r", Ballot3A), 4177, "RP", "01 01000000 0100000072 0300000000000000 01000000"),
        Case("RP.Promise", new RP.Promise(B, "r", Ballot3A, new Ballot(2, B), "v"), 4177, "RR",
            "01 02000000 0100000072 0300000000000000 01000000 0200000000000000 02000000 01 0100000076"),
        Case("RP.Accept", new RP.Accept(A, "r", Ballot3A, "v"), 4177, "RA", "01 01000000 0100000072 0300000000000000 01000000 0100000076"),
        Case("RP.Accepted", new RP.Accepted(B, "r", Ballot3A), 4177, "RD", "01 02000000 0100000072 0300000000000000 01000000"),
        Case("RP.Rejected", new RP.Rejected(B, "r", Ballot3A, new Ballot(4, B)), 4177, "RN",
            "01 02000000 0100000072 0300000000000000 01000000 0400000000000000 02000000"),
        Case("RP.Chosen", new RP.Chosen(A, "r", Ballot3A, "v"), 4177, "RC", "01 01000000 0100000072 0300000000000000 01000000 0100000076"),
        Case("RP.LearnRequest", new RP.LearnRequest(B, "r"), 4177, "RL", "01 02000000 0100000072"),
        Case("RP.AcceptorRecord", new RP.AcceptorRecord("r", Ballot3A, Ballot.Zero, null), 4177, "KA",
            "01 0100000072 0300000000000000 01000000 0000000000000000 00000000 00"),
        Case("RP.RoundRecord", new RP.RoundRecord(3), 4177, "KR", "01 0300000000000000"),
        Case("RP.ChosenRecord", new RP.ChosenRecord("r", Ballot3A, "v"), 4177, "KC", "01 0100000072 0300000000000000 01000000 0100000076"),
        Case("RP.RoleSnapshot", new RP.RoleSnapshot(3, [new RP.AcceptorRecord("r", Ballot3A, Ballot3A, "v")], [new RP.ChosenRecord("r", Ballot3A, "v")]), 4177, "KS",
            "01 0300000000000000",
            "01000000 0100000072 0300000000000000 01000000 0300000000000000 01000000 01 0100000076",
            "01000000 0100000072 0300000000000000 01000000 0100000076"),
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

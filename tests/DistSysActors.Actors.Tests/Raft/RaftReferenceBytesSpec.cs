using System.Collections.Immutable;
using DistSysActors.Actors.Raft;
using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>The Raft serializer (id 4170) writes every wire message and persisted event to exactly these bytes, and reads them back.</summary>
public sealed class RaftReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly NodeId A = new(1), B = new(7);
    private static readonly ImmutableArray<LogEntry> Entries = [new(7, 3, EntryType.NoOp, []), new(8, 3, EntryType.Normal, [1, 2, 3, 255])];

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("RequestVote", new RequestVote(A, B, 5, 9, 4, PreVote: true), 4170, "RV",
            "01", // version
            "01000000", // from
            "07000000", // to
            "0500000000000000", // term
            "0900000000000000", // last log index
            "0400000000000000", // last log term
            "01"), // flags: pre-vote
        Case("RequestVote transfer", new RequestVote(B, A, 6, 0, 0, PreVote: false, Transfer: true), 4170, "RV",
            "01", // version
            "07000000", // from
            "01000000", // to
            "0600000000000000", // term
            "0000000000000000", // last log index
            "0000000000000000", // last log term
            "02"), // flags: transfer
        Case("RequestVoteResponse", new RequestVoteResponse(A, B, 5, Granted: true, PreVote: true), 4170, "RVR",
            "01", // version
            "01000000", // from
            "07000000", // to
            "0500000000000000", // term
            "03"), // flags: granted, pre-vote
        Case("AppendEntries", new AppendEntries(A, B, 5, 6, 2, Entries, 8), 4170, "AE",
            "01", // version
            "01000000", // from
            "07000000", // to
            "0500000000000000", // term
            "0600000000000000", // prev log index
            "0200000000000000", // prev log term
            "0800000000000000", // leader commit
            "02000000", // entry count
            "070000000000000003000000000000000100000000", // entry 7@3 no-op, no data
            "080000000000000003000000000000000004000000010203FF"), // entry 8@3 normal, 4 bytes
        Case("AppendEntriesResponse", new AppendEntriesResponse(A, B, 5, Success: false, MatchIndex: 0, RejectedIndex: 9, ConflictIndex: 4, ConflictTerm: 2), 4170, "AER",
            "01", // version
            "01000000", // from
            "07000000", // to
            "0500000000000000", // term
            "00", // success
            "0000000000000000", // match index
            "0900000000000000", // rejected index
            "0400000000000000", // conflict index
            "0200000000000000"), // conflict term
        Case("Heartbeat", new Heartbeat(A, B, 5, 8, 77), 4170, "HB",
            "01", // version
            "01000000", // from
            "07000000", // to
            "0500000000000000", // term
            "0800000000000000", // commit
            "4D00000000000000"), // round
        Case("HeartbeatResponse", new HeartbeatResponse(B, A, 5, -1, Applied: 300), 4170, "HBR",
            "01", // version
            "07000000", // from
            "01000000", // to
            "0500000000000000", // term
            "FFFFFFFFFFFFFFFF", // round
            "2C01000000000000"), // applied index
        Case("Propose", new Propose(B, A, [9, 8, 7]), 4170, "P",
            "01", // version
            "07000000", // from
            "01000000", // to
            "03000000090807"), // data
        Case("ReadIndexRequest", new ReadIndexRequest(B, A, 42, ReadMode.Lease), 4170, "RIQ",
            "01", // version
            "07000000", // from
            "01000000", // to
            "2A00000000000000", // request id
            "01"), // mode: lease
        Case("ReadIndexResponse", new ReadIndexResponse(A, B, 5, 42, 8), 4170, "RIR",
            "01", // version
            "01000000", // from
            "07000000", // to
            "0500000000000000", // term
            "2A00000000000000", // request id
            "0800000000000000"), // index
        Case("InstallSnapshot", new InstallSnapshot(A, B, 5, new SnapshotMeta(100, 4, new Membership([new NodeId(3), A, B], [new NodeId(9), new NodeId(4)])), 65536, [1, 2, 3], Done: true), 4170, "IS",
            "01", // version
            "01000000", // from
            "07000000", // to
            "0500000000000000", // term
            "6400000000000000", // snapshot index
            "0400000000000000", // snapshot term
            "03000000010000000300000007000000", // voters 1, 3, 7
            "020000000400000009000000", // learners 4, 9
            "0000010000000000", // offset
            "03000000010203", // data
            "01"), // done
        Case("InstallSnapshotResponse", new InstallSnapshotResponse(B, A, 5, 100, 131072, Done: true), 4170, "ISR",
            "01", // version
            "07000000", // from
            "01000000", // to
            "0500000000000000", // term
            "6400000000000000", // snapshot index
            "0000020000000000", // next offset
            "01"), // done
        Case("TimeoutNow", new TimeoutNow(A, B, 12), 4170, "TN",
            "01", // version
            "01000000", // from
            "07000000", // to
            "0C00000000000000"), // term
        Case("RaftHardStateSaved", new RaftHardStateSaved(5, 7, 8), 4170, "HS",
            "01", // version
            "0500000000000000", // term
            "01", // has vote
            "07000000", // vote
            "0800000000000000"), // commit
        Case("RaftHardStateSaved without vote", new RaftHardStateSaved(5, null, 0), 4170, "HS",
            "01", // version
            "0500000000000000", // term
            "00", // has vote
            "00000000", // vote (unused)
            "0000000000000000"), // commit
        Case("RaftEntriesSaved", new RaftEntriesSaved(7, Entries.Select(RaftEntryRecord.From).ToArray()), 4170, "ES",
            "01", // version
            "0700000000000000", // from index
            "02000000", // entry count
            "070000000000000003000000000000000100000000", // entry 7@3 no-op, no data
            "080000000000000003000000000000000004000000010203FF"), // entry 8@3 normal, 4 bytes
        Case("RaftStateSnapshot", new RaftStateSnapshot(new RaftHardStateSaved(9, null, 100), 100, 4, [1, 3, 7], [4, 9], [0xAA, 0xBB], [new RaftEntryRecord(101, 4, EntryType.Normal, [5])]), 4170, "SS",
            "01", // version
            "0900000000000000", // hard state: term
            "00", // has vote
            "00000000", // vote (unused)
            "6400000000000000", // commit
            "6400000000000000", // snapshot index
            "0400000000000000", // snapshot term
            "03000000010000000300000007000000", // voters 1, 3, 7
            "020000000400000009000000", // learners 4, 9
            "02000000AABB", // data
            "01000000", // tail count
            "65000000000000000400000000000000000100000005"), // entry 101@4 normal, 1 byte
        Case("AdminForwarded", new AdminForwarded(2, 9, new RaftProtocol.AddMember(4)), 4170, "AF",
            "01", // version
            "02000000", // from
            "0900000000000000", // request id
            "01", // add member
            "04000000"), // node id
        Case("AdminAnswered", new AdminAnswered(9, new RaftProtocol.TransferDone(7, 12)), 4170, "AA",
            "01", // version
            "0900000000000000", // request id
            "01", // transfer done
            "07000000", // leader id
            "0C00000000000000"), // term
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

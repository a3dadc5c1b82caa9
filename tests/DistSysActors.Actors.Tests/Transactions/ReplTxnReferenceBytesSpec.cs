using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Replicated.ReplTxn;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Actors.Tests.Transactions;

/// <summary>
/// The replicated-mode serializer (id 4183) writes every message and record to exactly these bytes, and reads them back.
/// Layout: a version byte, then the fields in order; a nested message is its serializer's id (int32), its manifest (a
/// string) and its bytes (int32-length-prefixed); an answer a request id then a kind byte (1 BEGIN durable, 2 outcome,
/// 3 refused) and its fields; a Raft write an optional hard state (term, optional vote, commit) then its entries
/// (index, term, type byte, data).
/// </summary>
public sealed class ReplTxnReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly NodeId A = new(1), B = new(2), Coordinator = new(100), Shard1 = new(101);
    private static readonly TxnId T = new(Coordinator, 7);

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("RaftEnvelope", new RaftEnvelope(A, Shard1, new RequestVoteResponse(A, B, 3, true, false)), 4183, "RE", "01 01000000 65000000", "4A100000 03000000525652 12000000", "01 01000000 02000000 0300000000000000 01"), // from, group 101; serializer 4170, manifest RVR, its bytes
        Case("TxnEnvelope", new TxnEnvelope(A, Coordinator, new DecisionAck(Shard1, T), 1), 4183, "TE", "01 01000000 64000000", "54100000 020000005441 11000000 01 65000000 6400000007000000 00000000", "01000000"), // from, group 100; serializer 4180, manifest TA, its bytes; hops
        Case("ClientBegin", new ClientBegin(A, 5, TxnProtocol.TwoPhase, [new AddOp("a", -5, 0)], "key", null, 0), 4183, "CB", "01 01000000 0500000000000000 01", "01000000 03 0100000061 FBFFFFFFFFFFFFFF 01 0000000000000000", "01 030000006B6579 00 00000000"), // from, request, 2pc; ops; key, no fingerprint, hops
        Case("ClientReplyBeginDurable", new ClientReply(B, new BeginDurable(5, T)), 4183, "CR", "01 02000000 0500000000000000 01 64000000 0700000000000000"), // from, request, kind 1, id
        Case("ClientReplyOutcome", new ClientReply(B, new Outcome(5, new TxnAnswer(5, T, TxnState.Aborted, "r", true))), 4183, "CR", "01 02000000 0500000000000000 02 64000000 0700000000000000 05 01 0100000072 01"), // kind 2, id, aborted, reason, replayed
        Case("ClientReplyRefused", new ClientReply(B, new Refused(5, "no", true)), 4183, "CR", "01 02000000 0500000000000000 03 020000006E6F 01"), // kind 3, reason, unavailable
        Case("GroupRaftWrite", new GroupRaftWrite(Shard1, new RaftWrite(null, new HardState(2, A, 1), [new LogEntry(1, 2, EntryType.Normal, [0xAB])])), 4183, "GW", "01 65000000", "01 0200000000000000 01 01000000 0100000000000000", "01000000 0100000000000000 0200000000000000 00 01000000AB"), // group; hard state; one entry
        Case("RecordBatch", new RecordBatch([new EndRecord(T)]), 4183, "RB", "01 01000000", "54100000 020000004345 0D000000 01 64000000 0700000000000000"), // one record: serializer 4180, manifest CE, its bytes
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

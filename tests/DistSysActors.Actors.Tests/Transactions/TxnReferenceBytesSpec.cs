using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Actors.Tests.Transactions;

/// <summary>
/// The transaction serializer (id 4180) writes every message and record to exactly these bytes, and reads them back.
/// Layout: a version byte, then the fields in order; a transaction id is its coordinator (int32) and sequence (int64);
/// a string is int32-length-prefixed UTF-8; an optional text a presence byte then the string; an op a kind byte
/// (1 put, 2 delete, 3 add) then its fields.
/// </summary>
public sealed class TxnReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly NodeId A = new(1), B = new(2);
    private static readonly TxnId T = new(A, 7);

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("Prepare", new Prepare(A, T, TxnProtocol.TwoPhase, [A, B], [new PutOp("k", "v"), new DeleteOp("d"), new AddOp("a", -5, 0), new AddOp("b", 5, null)]), 4180, "TP",
            "01 01000000 01000000 0700000000000000 01 02000000 01000000 02000000",
            "04000000 01 010000006B 0100000076 02 0100000064 03 0100000061 FBFFFFFFFFFFFFFF 01 0000000000000000 03 0100000062 0500000000000000 00"),
        Case("PreCommit", new PreCommit(A, T), 4180, "TC", "01 01000000 01000000 0700000000000000"),
        Case("Decision", new Decision(A, T, true), 4180, "TD", "01 01000000 01000000 0700000000000000 01"),
        Case("SagaStep", new SagaStep(A, T, 1, [new AddOp("a", 3, null)]), 4180, "TS",
            "01 01000000 01000000 0700000000000000 01000000 01000000 03 0100000061 0300000000000000 00"),
        Case("SagaCompensate", new SagaCompensate(A, T, 1), 4180, "TU", "01 01000000 01000000 0700000000000000 01000000"),
        Case("Vote", new Vote(B, T, false, "no"), 4180, "TV", "01 02000000 01000000 0700000000000000 00 01 020000006E6F"),
        Case("PreCommitAck", new PreCommitAck(B, T), 4180, "TK", "01 02000000 01000000 0700000000000000"),
        Case("DecisionAck", new DecisionAck(B, T), 4180, "TA", "01 02000000 01000000 0700000000000000"),
        Case("DecisionQuery", new DecisionQuery(B, T), 4180, "TQ", "01 02000000 01000000 0700000000000000"),
        Case("SagaStepResult", new SagaStepResult(B, T, 1, true, null), 4180, "TR", "01 02000000 01000000 0700000000000000 01000000 01 00"),
        Case("SagaCompensated", new SagaCompensated(B, T, 1), 4180, "TO", "01 02000000 01000000 0700000000000000 01000000"),
        Case("StateRequest", new StateRequest(B, T, true), 4180, "TW", "01 02000000 01000000 0700000000000000 01"),
        Case("StateReply", new StateReply(B, T, TxnState.PreCommitted, false), 4180, "TY", "01 02000000 01000000 0700000000000000 03 00"),
        Case("PreparedRecord", new PreparedRecord(T, TxnProtocol.ThreePhase, [B], [new TxnWrite("k", "1"), new TxnWrite("d", null)]), 4180, "RP",
            "01 01000000 0700000000000000 02 01000000 02000000 02000000 010000006B 01 0100000031 0100000064 00"),
        Case("PreCommittedRecord", new PreCommittedRecord(T), 4180, "RC", "01 01000000 0700000000000000"),
        Case("OutcomeRecord", new OutcomeRecord(T, true), 4180, "RO", "01 01000000 0700000000000000 01"),
        Case("SagaStepRecord", new SagaStepRecord(T, 0, true, null, [new TxnWrite("a", "5")], [new AddOp("a", 3, null)]), 4180, "RS",
            "01 01000000 0700000000000000 00000000 01 00 01000000 0100000061 01 0100000035 01000000 03 0100000061 0300000000000000 00"),
        Case("SagaCompensationRecord", new SagaCompensationRecord(T, 0, []), 4180, "RU", "01 01000000 0700000000000000 00000000 00000000"),
        Case("BeginRecord", new BeginRecord(T, TxnProtocol.Saga, [new Branch(B, [new DeleteOp("d")])], "key", null), 4180, "CB",
            "01 01000000 0700000000000000 03 01000000 02000000 01000000 02 0100000064 01 030000006B6579 00"),
        Case("DecisionRecord", new DecisionRecord(T, TxnState.Aborted, "r"), 4180, "CD", "01 01000000 0700000000000000 05 01 0100000072"),
        Case("SagaProgressRecord", new SagaProgressRecord(T, 2, true), 4180, "CS", "01 01000000 0700000000000000 02000000 01"),
        Case("EndRecord", new EndRecord(T), 4180, "CE", "01 01000000 0700000000000000"),
        Case("TxnSnapshot", new TxnSnapshot(9, [new TxnWrite("k", "1")], [new EndRecord(T)]), 4180, "SN",
            "01 0900000000000000 01000000 010000006B 01 0100000031",
            "01000000 54100000 020000004345 0D000000 01 01000000 0700000000000000"), // one record: serializer 4180, manifest CE, its bytes
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

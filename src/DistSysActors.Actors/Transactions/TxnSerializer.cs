using System.Collections.Immutable;
using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Actors.Transactions;

/// <summary>
/// Binary form of the transaction messages and journal records; bound in the reference configuration. A transaction id
/// is its coordinator (int32) and sequence (int64); an op is a kind byte (1 put, 2 delete, 3 add) and its fields; an
/// optional text is a presence byte then the text; a snapshot's records go through their own serializer (this one).
/// </summary>
public sealed class TxnSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4180;

    internal static void TxnId(ref FieldWriter w, TxnId id)
    {
        w.Int32(id.Coordinator.Value);
        w.Int64(id.Seq);
    }

    internal static TxnId TxnId(ref FieldReader r) => new(new NodeId(r.Int32()), r.Int64());

    internal static void Text(ref FieldWriter w, string? text)
    {
        w.Bool(text is not null);
        if (text is not null) w.String(text);
    }

    internal static string? Text(ref FieldReader r) => r.Bool() ? r.String() : null;

    private static void Nodes(ref FieldWriter w, ImmutableArray<NodeId> nodes)
    {
        w.Int32(nodes.Length);
        foreach (var n in nodes) w.Int32(n.Value);
    }

    private static ImmutableArray<NodeId> Nodes(ref FieldReader r)
    {
        var count = r.Count(4);
        var nodes = ImmutableArray.CreateBuilder<NodeId>(count);
        for (var i = 0; i < count; i++) nodes.Add(new NodeId(r.Int32()));
        return nodes.MoveToImmutable();
    }

    internal static void Ops(ref FieldWriter w, ImmutableArray<TxnOp> ops)
    {
        w.Int32(ops.Length);
        foreach (var op in ops)
        {
            switch (op)
            {
                case PutOp p: w.Byte(1); w.String(p.Key); w.String(p.Value); break;
                case DeleteOp d: w.Byte(2); w.String(d.Key); break;
                case AddOp a:
                    w.Byte(3);
                    w.String(a.Key);
                    w.Int64(a.Delta);
                    w.Bool(a.Min is not null);
                    if (a.Min is { } min) w.Int64(min);
                    break;
                default: throw new ArgumentException($"unknown op {op.GetType().Name}");
            }
        }
    }

    internal static ImmutableArray<TxnOp> Ops(ref FieldReader r)
    {
        var count = r.Count(5);
        var ops = ImmutableArray.CreateBuilder<TxnOp>(count);
        for (var i = 0; i < count; i++)
        {
            var kind = r.Byte();
            ops.Add(kind switch
            {
                1 => new PutOp(r.String(), r.String()),
                2 => new DeleteOp(r.String()),
                3 => new AddOp(r.String(), r.Int64(), r.Bool() ? r.Int64() : null),
                _ => throw r.Corrupt($"unknown op kind {kind}"),
            });
        }
        return ops.MoveToImmutable();
    }

    private static void Writes(ref FieldWriter w, ImmutableArray<TxnWrite> writes)
    {
        w.Int32(writes.Length);
        foreach (var x in writes)
        {
            w.String(x.Key);
            Text(ref w, x.Value);
        }
    }

    private static ImmutableArray<TxnWrite> Writes(ref FieldReader r)
    {
        var count = r.Count(5);
        var writes = ImmutableArray.CreateBuilder<TxnWrite>(count);
        for (var i = 0; i < count; i++) writes.Add(new TxnWrite(r.String(), Text(ref r)));
        return writes.MoveToImmutable();
    }

    private static void Branches(ref FieldWriter w, ImmutableArray<Branch> branches)
    {
        w.Int32(branches.Length);
        foreach (var b in branches)
        {
            w.Int32(b.Participant.Value);
            Ops(ref w, b.Ops);
        }
    }

    private static ImmutableArray<Branch> Branches(ref FieldReader r)
    {
        var count = r.Count(8);
        var branches = ImmutableArray.CreateBuilder<Branch>(count);
        for (var i = 0; i < count; i++) branches.Add(new Branch(new NodeId(r.Int32()), Ops(ref r)));
        return branches.MoveToImmutable();
    }

    private static NodeId From(ref FieldReader r) => new(r.Int32());

    internal static readonly ManifestTable Format = new(Id, nameof(TxnSerializer), version: 1,
        // ---- messages
        ManifestEntry.Of<Prepare>("TP", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); w.Byte((byte)m.Protocol); Nodes(ref w, m.Participants); Ops(ref w, m.Ops); },
            static (ref r) => new Prepare(From(ref r), TxnId(ref r), (TxnProtocol)r.Byte(), Nodes(ref r), Ops(ref r))),
        ManifestEntry.Of<PreCommit>("TC", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); },
            static (ref r) => new PreCommit(From(ref r), TxnId(ref r))),
        ManifestEntry.Of<Decision>("TD", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); w.Bool(m.Commit); },
            static (ref r) => new Decision(From(ref r), TxnId(ref r), r.Bool())),
        ManifestEntry.Of<SagaStep>("TS", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); w.Int32(m.Step); Ops(ref w, m.Ops); },
            static (ref r) => new SagaStep(From(ref r), TxnId(ref r), r.Int32(), Ops(ref r))),
        ManifestEntry.Of<SagaCompensate>("TU", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); w.Int32(m.Step); },
            static (ref r) => new SagaCompensate(From(ref r), TxnId(ref r), r.Int32())),
        ManifestEntry.Of<Vote>("TV", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); w.Bool(m.Yes); Text(ref w, m.Reason); },
            static (ref r) => new Vote(From(ref r), TxnId(ref r), r.Bool(), Text(ref r))),
        ManifestEntry.Of<PreCommitAck>("TK", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); },
            static (ref r) => new PreCommitAck(From(ref r), TxnId(ref r))),
        ManifestEntry.Of<DecisionAck>("TA", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); },
            static (ref r) => new DecisionAck(From(ref r), TxnId(ref r))),
        ManifestEntry.Of<DecisionQuery>("TQ", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); },
            static (ref r) => new DecisionQuery(From(ref r), TxnId(ref r))),
        ManifestEntry.Of<SagaStepResult>("TR", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); w.Int32(m.Step); w.Bool(m.Done); Text(ref w, m.Reason); },
            static (ref r) => new SagaStepResult(From(ref r), TxnId(ref r), r.Int32(), r.Bool(), Text(ref r))),
        ManifestEntry.Of<SagaCompensated>("TO", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); w.Int32(m.Step); },
            static (ref r) => new SagaCompensated(From(ref r), TxnId(ref r), r.Int32())),
        ManifestEntry.Of<StateRequest>("TW", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); w.Bool(m.FromCoordinator); },
            static (ref r) => new StateRequest(From(ref r), TxnId(ref r), r.Bool())),
        ManifestEntry.Of<StateReply>("TY", static (m, ref w) => { w.Int32(m.From.Value); TxnId(ref w, m.Id); w.Byte((byte)m.State); w.Bool(m.ToCoordinator); },
            static (ref r) => new StateReply(From(ref r), TxnId(ref r), (TxnState)r.Byte(), r.Bool())),
        // ---- participant records
        ManifestEntry.Of<PreparedRecord>("RP", static (m, ref w) => { TxnId(ref w, m.Id); w.Byte((byte)m.Protocol); Nodes(ref w, m.Participants); Writes(ref w, m.Writes); },
            static (ref r) => new PreparedRecord(TxnId(ref r), (TxnProtocol)r.Byte(), Nodes(ref r), Writes(ref r))),
        ManifestEntry.Of<PreCommittedRecord>("RC", static (m, ref w) => TxnId(ref w, m.Id), static (ref r) => new PreCommittedRecord(TxnId(ref r))),
        ManifestEntry.Of<OutcomeRecord>("RO", static (m, ref w) => { TxnId(ref w, m.Id); w.Bool(m.Committed); },
            static (ref r) => new OutcomeRecord(TxnId(ref r), r.Bool())),
        ManifestEntry.Of<SagaStepRecord>("RS", static (m, ref w) =>
        {
            TxnId(ref w, m.Id);
            w.Int32(m.Step);
            w.Bool(m.Applied);
            Text(ref w, m.Reason);
            Writes(ref w, m.Writes);
            Ops(ref w, m.Compensation);
        }, static (ref r) => new SagaStepRecord(TxnId(ref r), r.Int32(), r.Bool(), Text(ref r), Writes(ref r), Ops(ref r))),
        ManifestEntry.Of<SagaCompensationRecord>("RU", static (m, ref w) => { TxnId(ref w, m.Id); w.Int32(m.Step); Writes(ref w, m.Writes); },
            static (ref r) => new SagaCompensationRecord(TxnId(ref r), r.Int32(), Writes(ref r))),
        // ---- coordinator records
        ManifestEntry.Of<BeginRecord>("CB", static (m, ref w) =>
        {
            TxnId(ref w, m.Id);
            w.Byte((byte)m.Protocol);
            Branches(ref w, m.Branches);
            Text(ref w, m.IdempotencyKey);
            Text(ref w, m.Fingerprint);
        }, static (ref r) => new BeginRecord(TxnId(ref r), (TxnProtocol)r.Byte(), Branches(ref r), Text(ref r), Text(ref r))),
        ManifestEntry.Of<DecisionRecord>("CD", static (m, ref w) => { TxnId(ref w, m.Id); w.Byte((byte)m.State); Text(ref w, m.Reason); },
            static (ref r) => new DecisionRecord(TxnId(ref r), (TxnState)r.Byte(), Text(ref r))),
        ManifestEntry.Of<SagaProgressRecord>("CS", static (m, ref w) => { TxnId(ref w, m.Id); w.Int32(m.Step); w.Bool(m.Compensated); },
            static (ref r) => new SagaProgressRecord(TxnId(ref r), r.Int32(), r.Bool())),
        ManifestEntry.Of<EndRecord>("CE", static (m, ref w) => TxnId(ref w, m.Id), static (ref r) => new EndRecord(TxnId(ref r))),
        // ---- snapshot
        ManifestEntry.Of<TxnSnapshot>("SN", static (m, ref w) =>
        {
            w.Int64(m.LastSeq);
            Writes(ref w, m.Store);
            w.Int32(m.Records.Length);
            foreach (var record in m.Records) w.Payload(record);
        }, static (ref r) =>
        {
            var lastSeq = r.Int64();
            var store = Writes(ref r);
            var count = r.Count(1);
            var records = ImmutableArray.CreateBuilder<object>(count);
            for (var i = 0; i < count; i++) records.Add(r.Payload());
            return new TxnSnapshot(lastSeq, store, records.MoveToImmutable());
        }));

    public override int Identifier => Id;
}

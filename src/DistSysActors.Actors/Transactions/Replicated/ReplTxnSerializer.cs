using System.Collections.Immutable;
using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Replicated.ReplTxn;

namespace DistSysActors.Actors.Transactions.Replicated;

/// <summary>
/// Binary form of replicated mode's messages and journal records. Envelopes carry their Raft or transaction message
/// through that message's own serializer (<see cref="FieldWriter.Payload"/>); a journal record is one group's Raft write
/// (hard state, entries); a record batch (a Raft entry's data) is its records, each through its own serializer.
/// </summary>
public sealed class ReplTxnSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4183;

    private static NodeId Node(ref FieldReader r) => new(r.Int32());

    private static void Answer(ref FieldWriter w, ReplAnswer answer)
    {
        w.Int64(answer.RequestId);
        switch (answer)
        {
            case BeginDurable b:
                w.Byte(1);
                TxnSerializer.TxnId(ref w, b.Id);
                break;
            case Outcome o:
                w.Byte(2);
                TxnSerializer.TxnId(ref w, o.Answer.Id);
                w.Byte((byte)o.Answer.Outcome);
                TxnSerializer.Text(ref w, o.Answer.Reason);
                w.Bool(o.Answer.Replayed);
                break;
            case Refused f:
                w.Byte(3);
                w.String(f.Reason);
                w.Bool(f.Unavailable);
                break;
            default: throw new ArgumentException($"unknown answer {answer.GetType().Name}");
        }
    }

    private static ReplAnswer Answer(ref FieldReader r)
    {
        var request = r.Int64();
        return r.Byte() switch
        {
            1 => new BeginDurable(request, TxnSerializer.TxnId(ref r)),
            2 => new Outcome(request, new Txn.TxnAnswer(request, TxnSerializer.TxnId(ref r), (TxnState)r.Byte(), TxnSerializer.Text(ref r), r.Bool())),
            3 => new Refused(request, r.String(), r.Bool()),
            var k => throw r.Corrupt($"answer kind {k}"),
        };
    }

    private static void Write(ref FieldWriter w, RaftWrite write)
    {
        if (write.Snapshot is not null) throw new ArgumentException("replicated transactions take no Raft snapshots");
        w.Bool(write.HardState is not null);
        if (write.HardState is { } hs)
        {
            w.Int64(hs.Term);
            w.Bool(hs.Vote is not null);
            if (hs.Vote is { } vote) w.Int32(vote.Value);
            w.Int64(hs.Commit);
        }
        w.Int32(write.Entries.Length);
        foreach (var e in write.Entries)
        {
            w.Int64(e.Index);
            w.Int64(e.Term);
            w.Byte((byte)e.Type);
            w.Bytes(e.Data);
        }
    }

    private static RaftWrite Write(ref FieldReader r)
    {
        HardState? hs = null;
        if (r.Bool()) hs = new HardState(r.Int64(), r.Bool() ? new NodeId(r.Int32()) : null, r.Int64());
        var count = r.Count(21);
        var entries = ImmutableArray.CreateBuilder<LogEntry>(count);
        for (var i = 0; i < count; i++) entries.Add(new LogEntry(r.Int64(), r.Int64(), (EntryType)r.Byte(), r.Bytes()));
        return new RaftWrite(null, hs, entries.MoveToImmutable());
    }

    internal static readonly ManifestTable Format = new(Id, nameof(ReplTxnSerializer), version: 1,
        ManifestEntry.Of<RaftEnvelope>("RE", static (m, ref w) => { w.Int32(m.From.Value); w.Int32(m.Group.Value); w.Payload(m.Message); },
            static (ref r) => new RaftEnvelope(Node(ref r), Node(ref r), (RaftMessage)r.Payload())),
        ManifestEntry.Of<TxnEnvelope>("TE", static (m, ref w) => { w.Int32(m.From.Value); w.Int32(m.ToGroup.Value); w.Payload(m.Message); w.Int32(m.Hops); },
            static (ref r) => new TxnEnvelope(Node(ref r), Node(ref r), (Txn.TxnMessage)r.Payload(), r.Int32())),
        ManifestEntry.Of<ClientBegin>("CB", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.RequestId);
            w.Byte((byte)m.Protocol);
            TxnSerializer.Ops(ref w, m.Ops);
            TxnSerializer.Text(ref w, m.IdempotencyKey);
            TxnSerializer.Text(ref w, m.Fingerprint);
            w.Int32(m.Hops);
        }, static (ref r) => new ClientBegin(Node(ref r), r.Int64(), (TxnProtocol)r.Byte(), TxnSerializer.Ops(ref r), TxnSerializer.Text(ref r), TxnSerializer.Text(ref r), r.Int32())),
        ManifestEntry.Of<ClientReply>("CR", static (m, ref w) => { w.Int32(m.From.Value); Answer(ref w, m.Answer); },
            static (ref r) => new ClientReply(Node(ref r), Answer(ref r))),
        ManifestEntry.Of<GroupRaftWrite>("GW", static (m, ref w) => { w.Int32(m.Group.Value); Write(ref w, m.Write); },
            static (ref r) => new GroupRaftWrite(Node(ref r), Write(ref r))),
        ManifestEntry.Of<RecordBatch>("RB", static (m, ref w) =>
        {
            w.Int32(m.Records.Length);
            foreach (var record in m.Records) w.Payload(record);
        }, static (ref r) =>
        {
            var count = r.Count(1);
            var records = ImmutableArray.CreateBuilder<object>(count);
            for (var i = 0; i < count; i++) records.Add(r.Payload());
            return new RecordBatch(records.MoveToImmutable());
        }));

    public override int Identifier => Id;
}

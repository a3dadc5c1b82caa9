using System.Collections.Immutable;
using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Paxos;
using MP = DistSysActors.Core.Paxos.MultiPaxos;
using RP = DistSysActors.Core.Paxos.RegisterPaxos;

namespace DistSysActors.Actors.Paxos;

/// <summary>
/// Binary form of the Paxos wire messages and journal records (Multi-Paxos and the Basic Paxos registers); bound in the
/// reference configuration. A ballot is its round (int64) and node (int32); a command is a presence byte then its
/// int32-length-prefixed bytes (absent: a no-op).
/// </summary>
public sealed class PaxosSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4177;

    private static void Ballot(ref FieldWriter w, Ballot b)
    {
        w.Int64(b.Round);
        w.Int32(b.Node.Value);
    }

    private static Ballot Ballot(ref FieldReader r) => new(r.Int64(), new NodeId(r.Int32()));

    private static void Command(ref FieldWriter w, byte[]? command)
    {
        w.Bool(command is not null);
        if (command is not null) w.Bytes(command);
    }

    private static byte[]? Command(ref FieldReader r) => r.Bool() ? r.Bytes() : null;

    private static void Commands(ref FieldWriter w, ImmutableArray<byte[]?> commands)
    {
        w.Int32(commands.Length);
        foreach (var c in commands) Command(ref w, c);
    }

    private static ImmutableArray<byte[]?> Commands(ref FieldReader r)
    {
        var count = r.Count(1);
        var commands = ImmutableArray.CreateBuilder<byte[]?>(count);
        for (var i = 0; i < count; i++) commands.Add(Command(ref r));
        return commands.MoveToImmutable();
    }

    private static void Slots(ref FieldWriter w, ImmutableArray<AcceptedSlot> slots)
    {
        w.Int32(slots.Length);
        foreach (var s in slots)
        {
            w.Int64(s.Slot);
            Ballot(ref w, s.Ballot);
            Command(ref w, s.Command);
        }
    }

    private static ImmutableArray<AcceptedSlot> Slots(ref FieldReader r)
    {
        var count = r.Count(21);
        var slots = ImmutableArray.CreateBuilder<AcceptedSlot>(count);
        for (var i = 0; i < count; i++) slots.Add(new AcceptedSlot(r.Int64(), Ballot(ref r), Command(ref r)));
        return slots.MoveToImmutable();
    }

    private static void Snapshot(ref FieldWriter w, PaxosSnapshot? snapshot)
    {
        w.Bool(snapshot is not null);
        if (snapshot is null) return;
        w.Int64(snapshot.Slot);
        w.Bytes(snapshot.Data);
    }

    private static PaxosSnapshot? Snapshot(ref FieldReader r) => r.Bool() ? new PaxosSnapshot(r.Int64(), r.Bytes()) : null;

    private static void Text(ref FieldWriter w, string? text)
    {
        w.Bool(text is not null);
        if (text is not null) w.String(text);
    }

    private static string? Text(ref FieldReader r) => r.Bool() ? r.String() : null;

    internal static readonly ManifestTable Format = new(Id, nameof(PaxosSerializer), version: 1,
        // ---- Multi-Paxos
        ManifestEntry.Of<MP.Prepare>("MP", static (m, ref w) => { w.Int32(m.From.Value); Ballot(ref w, m.Ballot); w.Int64(m.FromSlot); },
            static (ref r) => new MP.Prepare(new NodeId(r.Int32()), Ballot(ref r), r.Int64())),
        ManifestEntry.Of<MP.Promise>("MR", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            Ballot(ref w, m.Ballot);
            w.Int64(m.FromSlot);
            w.Int64(m.CompactedThrough);
            Slots(ref w, m.Accepted);
        }, static (ref r) => new MP.Promise(new NodeId(r.Int32()), Ballot(ref r), r.Int64(), r.Int64(), Slots(ref r))),
        ManifestEntry.Of<MP.Accept>("MA", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            Ballot(ref w, m.Ballot);
            w.Int64(m.FirstSlot);
            Commands(ref w, m.Commands);
            w.Int64(m.DecidedThrough);
        }, static (ref r) => new MP.Accept(new NodeId(r.Int32()), Ballot(ref r), r.Int64(), Commands(ref r), r.Int64())),
        ManifestEntry.Of<MP.Accepted>("MD", static (m, ref w) => { w.Int32(m.From.Value); Ballot(ref w, m.Ballot); w.Int64(m.FirstSlot); w.Int64(m.LastSlot); },
            static (ref r) => new MP.Accepted(new NodeId(r.Int32()), Ballot(ref r), r.Int64(), r.Int64())),
        ManifestEntry.Of<MP.Rejected>("MN", static (m, ref w) => { w.Int32(m.From.Value); Ballot(ref w, m.Ballot); Ballot(ref w, m.Promised); },
            static (ref r) => new MP.Rejected(new NodeId(r.Int32()), Ballot(ref r), Ballot(ref r))),
        ManifestEntry.Of<MP.Heartbeat>("MH", static (m, ref w) => { w.Int32(m.From.Value); Ballot(ref w, m.Ballot); w.Int64(m.DecidedThrough); w.Int64(m.Round); },
            static (ref r) => new MP.Heartbeat(new NodeId(r.Int32()), Ballot(ref r), r.Int64(), r.Int64())),
        ManifestEntry.Of<MP.HeartbeatAck>("MK", static (m, ref w) => { w.Int32(m.From.Value); Ballot(ref w, m.Ballot); w.Int64(m.Round); w.Int64(m.LearnedThrough); },
            static (ref r) => new MP.HeartbeatAck(new NodeId(r.Int32()), Ballot(ref r), r.Int64(), r.Int64())),
        ManifestEntry.Of<MP.CatchUpRequest>("MC", static (m, ref w) => { w.Int32(m.From.Value); w.Int64(m.FromSlot); },
            static (ref r) => new MP.CatchUpRequest(new NodeId(r.Int32()), r.Int64())),
        ManifestEntry.Of<MP.CatchUpReply>("MU", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.FirstSlot);
            Commands(ref w, m.Commands);
            Snapshot(ref w, m.Snapshot);
        }, static (ref r) => new MP.CatchUpReply(new NodeId(r.Int32()), r.Int64(), Commands(ref r), Snapshot(ref r))),
        ManifestEntry.Of<MP.Forward>("MF", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int32(m.Commands.Length);
            foreach (var c in m.Commands) w.Bytes(c);
        }, static (ref r) =>
        {
            var from = new NodeId(r.Int32());
            var count = r.Count(4);
            var commands = ImmutableArray.CreateBuilder<byte[]>(count);
            for (var i = 0; i < count; i++) commands.Add(r.Bytes());
            return new MP.Forward(from, commands.MoveToImmutable());
        }),
        ManifestEntry.Of<MP.ReadRequest>("MQ", static (m, ref w) => { w.Int32(m.From.Value); w.Int64(m.RequestId); w.Bool(m.Lease); },
            static (ref r) => new MP.ReadRequest(new NodeId(r.Int32()), r.Int64(), r.Bool())),
        ManifestEntry.Of<MP.ReadReply>("MY", static (m, ref w) => { w.Int32(m.From.Value); w.Int64(m.RequestId); w.Int64(m.Slot); },
            static (ref r) => new MP.ReadReply(new NodeId(r.Int32()), r.Int64(), r.Int64())),
        ManifestEntry.Of<MP.PromisedRecord>("JP", static (m, ref w) => Ballot(ref w, m.Promised),
            static (ref r) => new MP.PromisedRecord(Ballot(ref r))),
        ManifestEntry.Of<MP.AcceptedRecord>("JA", static (m, ref w) => { Ballot(ref w, m.Ballot); w.Int64(m.FirstSlot); Commands(ref w, m.Commands); },
            static (ref r) => new MP.AcceptedRecord(Ballot(ref r), r.Int64(), Commands(ref r))),
        ManifestEntry.Of<MP.RoundRecord>("JR", static (m, ref w) => w.Int64(m.Round),
            static (ref r) => new MP.RoundRecord(r.Int64())),
        ManifestEntry.Of<MP.SnapshotRecord>("JS", static (m, ref w) => Snapshot(ref w, m.Snapshot),
            static (ref r) => new MP.SnapshotRecord(Snapshot(ref r) ?? throw r.Corrupt("a snapshot record without its snapshot"))),
        ManifestEntry.Of<MP.PersistentState>("JT", static (m, ref w) =>
        {
            Ballot(ref w, m.Promised);
            w.Int64(m.RoundUsed);
            Snapshot(ref w, m.Snapshot);
            Slots(ref w, m.Accepted);
        }, static (ref r) => new MP.PersistentState(Ballot(ref r), r.Int64(), Snapshot(ref r), Slots(ref r))),
        // ---- Basic Paxos registers
        ManifestEntry.Of<RP.Prepare>("RP", static (m, ref w) => { w.Int32(m.From.Value); w.String(m.Name); Ballot(ref w, m.Ballot); },
            static (ref r) => new RP.Prepare(new NodeId(r.Int32()), r.String(), Ballot(ref r))),
        ManifestEntry.Of<RP.Promise>("RR", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.String(m.Name);
            Ballot(ref w, m.Ballot);
            Ballot(ref w, m.AcceptedBallot);
            Text(ref w, m.AcceptedValue);
        }, static (ref r) => new RP.Promise(new NodeId(r.Int32()), r.String(), Ballot(ref r), Ballot(ref r), Text(ref r))),
        ManifestEntry.Of<RP.Accept>("RA", static (m, ref w) => { w.Int32(m.From.Value); w.String(m.Name); Ballot(ref w, m.Ballot); w.String(m.Value); },
            static (ref r) => new RP.Accept(new NodeId(r.Int32()), r.String(), Ballot(ref r), r.String())),
        ManifestEntry.Of<RP.Accepted>("RD", static (m, ref w) => { w.Int32(m.From.Value); w.String(m.Name); Ballot(ref w, m.Ballot); },
            static (ref r) => new RP.Accepted(new NodeId(r.Int32()), r.String(), Ballot(ref r))),
        ManifestEntry.Of<RP.Rejected>("RN", static (m, ref w) => { w.Int32(m.From.Value); w.String(m.Name); Ballot(ref w, m.Ballot); Ballot(ref w, m.Promised); },
            static (ref r) => new RP.Rejected(new NodeId(r.Int32()), r.String(), Ballot(ref r), Ballot(ref r))),
        ManifestEntry.Of<RP.Chosen>("RC", static (m, ref w) => { w.Int32(m.From.Value); w.String(m.Name); Ballot(ref w, m.Ballot); w.String(m.Value); },
            static (ref r) => new RP.Chosen(new NodeId(r.Int32()), r.String(), Ballot(ref r), r.String())),
        ManifestEntry.Of<RP.LearnRequest>("RL", static (m, ref w) => { w.Int32(m.From.Value); w.String(m.Name); },
            static (ref r) => new RP.LearnRequest(new NodeId(r.Int32()), r.String())),
        ManifestEntry.Of<RP.AcceptorRecord>("KA", static (m, ref w) =>
        {
            w.String(m.Name);
            Ballot(ref w, m.Promised);
            Ballot(ref w, m.AcceptedBallot);
            Text(ref w, m.AcceptedValue);
        }, static (ref r) => new RP.AcceptorRecord(r.String(), Ballot(ref r), Ballot(ref r), Text(ref r))),
        ManifestEntry.Of<RP.RoundRecord>("KR", static (m, ref w) => w.Int64(m.Round),
            static (ref r) => new RP.RoundRecord(r.Int64())),
        ManifestEntry.Of<RP.ChosenRecord>("KC", static (m, ref w) => { w.String(m.Name); Ballot(ref w, m.Ballot); w.String(m.Value); },
            static (ref r) => new RP.ChosenRecord(r.String(), Ballot(ref r), r.String())),
        ManifestEntry.Of<RP.RoleSnapshot>("KS", static (m, ref w) =>
        {
            w.Int64(m.RoundUsed);
            w.Int32(m.Acceptor.Length);
            foreach (var a in m.Acceptor) { w.String(a.Name); Ballot(ref w, a.Promised); Ballot(ref w, a.AcceptedBallot); Text(ref w, a.AcceptedValue); }
            w.Int32(m.Chosen.Length);
            foreach (var c in m.Chosen) { w.String(c.Name); Ballot(ref w, c.Ballot); w.String(c.Value); }
        }, static (ref r) =>
        {
            var round = r.Int64();
            var acceptorCount = r.Count(29);
            var acceptor = ImmutableArray.CreateBuilder<RP.AcceptorRecord>(acceptorCount);
            for (var i = 0; i < acceptorCount; i++) acceptor.Add(new RP.AcceptorRecord(r.String(), Ballot(ref r), Ballot(ref r), Text(ref r)));
            var chosenCount = r.Count(20);
            var chosen = ImmutableArray.CreateBuilder<RP.ChosenRecord>(chosenCount);
            for (var i = 0; i < chosenCount; i++) chosen.Add(new RP.ChosenRecord(r.String(), Ballot(ref r), r.String()));
            return new RP.RoleSnapshot(round, acceptor.MoveToImmutable(), chosen.MoveToImmutable());
        }));

    public override int Identifier => Id;
}

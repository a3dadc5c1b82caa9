using System.Collections.Immutable;
using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Gossip;

namespace DistSysActors.Actors.Gossip;

/// <summary>
/// Binary form of the gossip wire messages: SWIM's (<see cref="SwimMessage"/>) and the anti-entropy store's
/// (<see cref="AntiEntropyMessage"/>), and the durable AP store's journal events (<see cref="ApEntry"/>) and snapshots
/// (<see cref="ApSnapshot"/>); bound in the reference configuration.
/// </summary>
public sealed class GossipSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4181;

    // member 4 + state 1 + incarnation 8 + reporter 4
    private const int UpdateBytes = 17;
    // key length 4 + hlc 16 + writer 4
    private const int VersionBytesMin = 24;

    internal static readonly ManifestTable Format = new(Id, nameof(GossipSerializer), version: 1,
        ManifestEntry.Of<SwimPing>("SP", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Seq);
            WriteUpdates(m.Updates, ref w);
        }, static (ref r) => new SwimPing(new NodeId(r.Int32()), r.Int64(), ReadUpdates(ref r))),
        ManifestEntry.Of<SwimAck>("SA", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Seq);
            WriteUpdates(m.Updates, ref w);
        }, static (ref r) => new SwimAck(new NodeId(r.Int32()), r.Int64(), ReadUpdates(ref r))),
        ManifestEntry.Of<SwimPingReq>("SR", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Seq);
            w.Int32(m.Target.Value);
            WriteUpdates(m.Updates, ref w);
        }, static (ref r) => new SwimPingReq(new NodeId(r.Int32()), r.Int64(), new NodeId(r.Int32()), ReadUpdates(ref r))),
        ManifestEntry.Of<SwimSync>("SS", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Bool(m.IsReply);
            WriteUpdates(m.Updates, ref w);
        }, static (ref r) => new SwimSync(new NodeId(r.Int32()), r.Bool(), ReadUpdates(ref r))),
        ManifestEntry.Of<ApDigest>("AD", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int32(m.Versions.Length);
            foreach (var v in m.Versions)
            {
                w.String(v.Key);
                WriteVersion(v.Version, ref w);
            }
        }, static (ref r) =>
        {
            var from = new NodeId(r.Int32());
            var count = r.Count(VersionBytesMin);
            var versions = ImmutableArray.CreateBuilder<ApDigestEntry>(count);
            for (var i = 0; i < count; i++) versions.Add(new ApDigestEntry(r.String(), ReadVersion(ref r)));
            return new ApDigest(from, versions.MoveToImmutable());
        }),
        ManifestEntry.Of<ApDelta>("AE", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Bool(m.IsReply);
            w.Int32(m.Entries.Length);
            foreach (var e in m.Entries) WriteEntry(e, ref w);
            w.Int32(m.Wanted.Length);
            foreach (var key in m.Wanted) w.String(key);
        }, static (ref r) =>
        {
            var from = new NodeId(r.Int32());
            var isReply = r.Bool();
            var count = r.Count(VersionBytesMin + 1);
            var entries = ImmutableArray.CreateBuilder<ApEntry>(count);
            for (var i = 0; i < count; i++) entries.Add(ReadEntry(ref r));
            var wantedCount = r.Count(4);
            var wanted = ImmutableArray.CreateBuilder<string>(wantedCount);
            for (var i = 0; i < wantedCount; i++) wanted.Add(r.String());
            return new ApDelta(from, isReply, entries.MoveToImmutable(), wanted.MoveToImmutable());
        }),
        ManifestEntry.Of<ApEntry>("AJ", static (m, ref w) => WriteEntry(m, ref w), static (ref r) => ReadEntry(ref r)),
        ManifestEntry.Of<ApSnapshot>("AN", static (m, ref w) =>
        {
            w.Int32(m.Entries.Length);
            foreach (var e in m.Entries) WriteEntry(e, ref w);
        }, static (ref r) =>
        {
            var count = r.Count(VersionBytesMin + 1);
            var entries = ImmutableArray.CreateBuilder<ApEntry>(count);
            for (var i = 0; i < count; i++) entries.Add(ReadEntry(ref r));
            return new ApSnapshot(entries.MoveToImmutable());
        }));

    public override int Identifier => Id;

    private static void WriteUpdates(ImmutableArray<MemberUpdate> updates, ref FieldWriter w)
    {
        w.Int32(updates.IsDefault ? 0 : updates.Length);
        if (updates.IsDefault) return;
        foreach (var u in updates)
        {
            w.Int32(u.Member.Value);
            w.Byte((byte)u.State);
            w.Int64(u.Incarnation);
            w.Int32(u.Reporter.Value);
        }
    }

    private static ImmutableArray<MemberUpdate> ReadUpdates(ref FieldReader r)
    {
        var count = r.Count(UpdateBytes);
        var updates = ImmutableArray.CreateBuilder<MemberUpdate>(count);
        for (var i = 0; i < count; i++)
        {
            var member = new NodeId(r.Int32());
            var state = r.Byte();
            if (state > (byte)MemberState.Dead) throw r.Corrupt($"member state {state}");
            updates.Add(new MemberUpdate(member, (MemberState)state, r.Int64(), new NodeId(r.Int32())));
        }
        return updates.MoveToImmutable();
    }

    private static void WriteEntry(ApEntry e, ref FieldWriter w)
    {
        w.String(e.Key);
        WriteVersion(e.Version, ref w);
        w.Bool(e.Value is not null);
        if (e.Value is not null) w.String(e.Value);
    }

    private static ApEntry ReadEntry(ref FieldReader r)
    {
        var key = r.String();
        var version = ReadVersion(ref r);
        return new ApEntry(key, r.Bool() ? r.String() : null, version);
    }

    private static void WriteVersion(ApVersion v, ref FieldWriter w)
    {
        w.Int64(v.Hlc.WallMs);
        w.Int64(v.Hlc.Logical);
        w.Int32(v.Writer.Value);
    }

    private static ApVersion ReadVersion(ref FieldReader r) => new(new HlcTimestamp(r.Int64(), r.Int64()), new NodeId(r.Int32()));
}

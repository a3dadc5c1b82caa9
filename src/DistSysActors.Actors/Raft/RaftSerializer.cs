using System.Collections.Frozen;
using System.Collections.Immutable;
using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// Compact binary form of every Raft wire message (<see cref="RaftMessage"/>) and of what <see cref="RaftActor"/>
/// persists (<see cref="RaftEvent"/>, <see cref="RaftStateSnapshot"/>); bound in the reference configuration.
/// Each payload starts with a format version byte, then little-endian fixed-width fields; byte strings and arrays are
/// int32-length-prefixed. Events journaled earlier by another serializer (JSON) still recover: the journal stores
/// the serializer id with each event, and Akka's JSON serializer stays configured.
/// </summary>
public sealed class RaftSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers; journals store it, so it never changes.</summary>
    public const int Id = 4170;

    internal const byte Version = 1;

    // Smallest encodings, used to bound counts read from untrusted bytes.
    private const int EntryBytesMin = 8 + 8 + 1 + 4;

    // Journals store these manifests with each event: never rename one.
    internal static readonly ManifestTable Format = new(Id, nameof(RaftSerializer), Version,
        ManifestEntry.Of<RequestVote>("RV", static (m, ref w) =>
        {
            Header(ref w, m);
            w.Int64(m.LastLogIndex);
            w.Int64(m.LastLogTerm);
            w.Byte((byte)((m.PreVote ? 1 : 0) | (m.Transfer ? 2 : 0)));
        }, ReadRequestVote),
        ManifestEntry.Of<RequestVoteResponse>("RVR", static (m, ref w) =>
        {
            Header(ref w, m);
            w.Byte((byte)((m.Granted ? 1 : 0) | (m.PreVote ? 2 : 0)));
        }, ReadRequestVoteResponse),
        ManifestEntry.Of<AppendEntries>("AE", static (m, ref w) =>
        {
            Header(ref w, m);
            w.Int64(m.PrevLogIndex);
            w.Int64(m.PrevLogTerm);
            w.Int64(m.LeaderCommit);
            w.Int32(m.Entries.Length);
            foreach (var e in m.Entries) Entry(ref w, e.Index, e.Term, e.Type, e.Data);
        }, ReadAppendEntries),
        ManifestEntry.Of<AppendEntriesResponse>("AER", static (m, ref w) =>
        {
            Header(ref w, m);
            w.Bool(m.Success);
            w.Int64(m.MatchIndex);
            w.Int64(m.RejectedIndex);
            w.Int64(m.ConflictIndex);
            w.Int64(m.ConflictTerm);
        }, static (ref r) => new AppendEntriesResponse(Node(ref r), Node(ref r), r.Int64(), r.Bool(), r.Int64(), r.Int64(), r.Int64(), r.Int64())),
        ManifestEntry.Of<Heartbeat>("HB", static (m, ref w) =>
        {
            Header(ref w, m);
            w.Int64(m.Commit);
            w.Int64(m.Round);
        }, static (ref r) => new Heartbeat(Node(ref r), Node(ref r), r.Int64(), r.Int64(), r.Int64())),
        ManifestEntry.Of<HeartbeatResponse>("HBR", static (m, ref w) =>
        {
            Header(ref w, m);
            w.Int64(m.Round);
            w.Int64(m.Applied);
        }, static (ref r) => new HeartbeatResponse(Node(ref r), Node(ref r), r.Int64(), r.Int64(), r.Int64())),
        ManifestEntry.Of<Propose>("P", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int32(m.To.Value);
            w.Bytes(m.Data);
        }, static (ref r) => new Propose(Node(ref r), Node(ref r), r.Bytes())),
        ManifestEntry.Of<ReadIndexRequest>("RIQ", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int32(m.To.Value);
            w.Int64(m.RequestId);
            w.Byte((byte)m.Mode);
        }, static (ref r) => new ReadIndexRequest(Node(ref r), Node(ref r), r.Int64(), Mode(ref r))),
        ManifestEntry.Of<ReadIndexResponse>("RIR", static (m, ref w) =>
        {
            Header(ref w, m);
            w.Int64(m.RequestId);
            w.Int64(m.Index);
        }, static (ref r) => new ReadIndexResponse(Node(ref r), Node(ref r), r.Int64(), r.Int64(), r.Int64())),
        ManifestEntry.Of<InstallSnapshot>("IS", static (m, ref w) =>
        {
            Header(ref w, m);
            w.Int64(m.Meta.Index);
            w.Int64(m.Meta.Term);
            NodeIds(ref w, m.Meta.Membership.Voters.AsSpan());
            NodeIds(ref w, m.Meta.Membership.Learners.AsSpan());
            w.Int64(m.Offset);
            w.Bytes(m.Data);
            w.Bool(m.Done);
        }, ReadInstallSnapshot),
        ManifestEntry.Of<InstallSnapshotResponse>("ISR", static (m, ref w) =>
        {
            Header(ref w, m);
            w.Int64(m.SnapshotIndex);
            w.Int64(m.NextOffset);
            w.Bool(m.Done);
        }, static (ref r) => new InstallSnapshotResponse(Node(ref r), Node(ref r), r.Int64(), r.Int64(), r.Int64(), r.Bool())),
        ManifestEntry.Of<TimeoutNow>("TN", static (m, ref w) => Header(ref w, m), static (ref r) => new TimeoutNow(Node(ref r), Node(ref r), r.Int64())),
        ManifestEntry.Of<RaftHardStateSaved>("HS", HardState, ReadHardState),
        ManifestEntry.Of<RaftEntriesSaved>("ES", static (e, ref w) =>
        {
            w.Int64(e.FromIndex);
            Records(ref w, e.Entries);
        }, static (ref r) => new RaftEntriesSaved(r.Int64(), ReadRecords(ref r))),
        ManifestEntry.Of<RaftStateSnapshot>("SS", static (s, ref w) =>
        {
            HardState(s.HardState, ref w);
            w.Int64(s.SnapshotIndex);
            w.Int64(s.SnapshotTerm);
            Ints(ref w, s.Voters);
            Ints(ref w, s.Learners);
            w.Bytes(s.Data);
            Records(ref w, s.Tail);
        }, static (ref r) => new RaftStateSnapshot(ReadHardState(ref r), r.Int64(), r.Int64(), ReadInts(ref r), ReadInts(ref r), r.Bytes(), ReadRecords(ref r))),
        ManifestEntry.Of<AdminForwarded>("AF", static (m, ref w) =>
        {
            w.Int32(m.From);
            w.Int64(m.RequestId);
            AdminRequestOf(ref w, m.Request);
        }, static (ref r) => new AdminForwarded(r.Int32(), r.Int64(), ReadAdminRequest(ref r))),
        ManifestEntry.Of<AdminAnswered>("AA", static (m, ref w) =>
        {
            w.Int64(m.RequestId);
            AdminAnswer(ref w, m.Answer);
        }, static (ref r) => new AdminAnswered(r.Int64(), ReadAdminAnswer(ref r))));

    /// <summary>The manifest of every type this serializer handles (tests check that no message type is missing).</summary>
    public static FrozenDictionary<Type, string> Manifests => Format.Manifests;

    public override int Identifier => Id;

    private static void Header(ref FieldWriter w, RaftMessage m)
    {
        w.Int32(m.From.Value);
        w.Int32(m.To.Value);
        w.Int64(m.Term);
    }

    private static void Entry(ref FieldWriter w, long index, long term, EntryType type, byte[] data)
    {
        w.Int64(index);
        w.Int64(term);
        w.Byte((byte)type);
        w.Bytes(data);
    }

    private static void Records(ref FieldWriter w, RaftEntryRecord[] records)
    {
        w.Int32(records.Length);
        foreach (var e in records) Entry(ref w, e.Index, e.Term, e.Type, e.Data);
    }

    private static void HardState(RaftHardStateSaved hs, ref FieldWriter w)
    {
        w.Int64(hs.Term);
        w.Bool(hs.Vote.HasValue);
        w.Int32(hs.Vote ?? 0);
        w.Int64(hs.Commit);
    }

    // Admin requests and answers: a tag byte, then the fields; an optional node id is a flag and an int32 (0 when absent).
    private const byte GetMembersTag = 0, AddMemberTag = 1, RemoveMemberTag = 2, TransferTag = 3;
    private const byte MembersTag = 0, TransferDoneTag = 1, RejectedTag = 2, UnavailableTag = 3, NotLeaderTag = 4;

    private static void OptionalNode(ref FieldWriter w, int? node)
    {
        w.Bool(node.HasValue);
        w.Int32(node ?? 0);
    }

    private static int? ReadOptionalNode(ref FieldReader r)
    {
        var has = r.Bool();
        var node = r.Int32();
        return has ? node : null;
    }

    private static void AdminRequestOf(ref FieldWriter w, RaftProtocol.AdminRequest request)
    {
        switch (request)
        {
            case RaftProtocol.GetMembers:
                w.Byte(GetMembersTag);
                break;
            case RaftProtocol.AddMember add:
                w.Byte(AddMemberTag);
                w.Int32(add.NodeId);
                break;
            case RaftProtocol.RemoveMember remove:
                w.Byte(RemoveMemberTag);
                w.Int32(remove.NodeId);
                break;
            case RaftProtocol.TransferLeadership transfer:
                w.Byte(TransferTag);
                OptionalNode(ref w, transfer.To);
                break;
            default:
                throw new ArgumentException($"unknown admin request {request.GetType().Name}", nameof(request));
        }
    }

    private static RaftProtocol.AdminRequest ReadAdminRequest(ref FieldReader r) => r.Byte() switch
    {
        GetMembersTag => RaftProtocol.GetMembers.Instance,
        AddMemberTag => new RaftProtocol.AddMember(r.Int32()),
        RemoveMemberTag => new RaftProtocol.RemoveMember(r.Int32()),
        TransferTag => new RaftProtocol.TransferLeadership(ReadOptionalNode(ref r)),
        var tag => throw r.Corrupt($"unknown admin request tag {tag}"),
    };

    private static void AdminAnswer(ref FieldWriter w, object answer)
    {
        switch (answer)
        {
            case RaftProtocol.Members m:
                w.Byte(MembersTag);
                w.Int32(m.Servers.Count);
                foreach (var s in m.Servers)
                {
                    w.Int32(s.NodeId);
                    w.Bool(s.Voter);
                    w.Int64(s.MatchIndex);
                    w.Int64(s.Lag);
                }
                OptionalNode(ref w, m.LeaderId);
                w.Int64(m.CommitIndex);
                break;
            case RaftProtocol.TransferDone t:
                w.Byte(TransferDoneTag);
                w.Int32(t.LeaderId);
                w.Int64(t.Term);
                break;
            case RaftProtocol.Rejected rejected:
                w.Byte(RejectedTag);
                w.String(rejected.Reason);
                w.Bool(rejected.TooLarge);
                break;
            case RaftProtocol.Unavailable unavailable:
                w.Byte(UnavailableTag);
                w.String(unavailable.Reason);
                w.Bool(unavailable.Unknown);
                break;
            case RaftProtocol.NotLeader notLeader:
                w.Byte(NotLeaderTag);
                OptionalNode(ref w, notLeader.LeaderId);
                break;
            default:
                throw new ArgumentException($"unknown admin answer {answer.GetType().Name}", nameof(answer));
        }
    }

    private static object ReadAdminAnswer(ref FieldReader r)
    {
        switch (r.Byte())
        {
            case MembersTag:
                // A server is 4 + 1 + 8 + 8 bytes.
                var count = r.Count(21);
                var servers = new List<RaftProtocol.MemberInfo>(count);
                for (var i = 0; i < count; i++) servers.Add(new RaftProtocol.MemberInfo(r.Int32(), r.Bool(), r.Int64(), r.Int64()));
                return new RaftProtocol.Members(servers, ReadOptionalNode(ref r), r.Int64());
            case TransferDoneTag:
                return new RaftProtocol.TransferDone(r.Int32(), r.Int64());
            case RejectedTag:
                return new RaftProtocol.Rejected(r.String(), r.Bool());
            case UnavailableTag:
                return new RaftProtocol.Unavailable(r.String(), r.Bool());
            case NotLeaderTag:
                return new RaftProtocol.NotLeader(ReadOptionalNode(ref r));
            case var tag:
                throw r.Corrupt($"unknown admin answer tag {tag}");
        }
    }

    private static void NodeIds(ref FieldWriter w, ReadOnlySpan<NodeId> nodes)
    {
        w.Int32(nodes.Length);
        foreach (var n in nodes) w.Int32(n.Value);
    }

    private static void Ints(ref FieldWriter w, int[] values)
    {
        w.Int32(values.Length);
        foreach (var v in values) w.Int32(v);
    }

    private static NodeId Node(ref FieldReader r) => new(r.Int32());

    private static ReadMode Mode(ref FieldReader r) => r.Byte() switch
    {
        0 => ReadMode.ReadIndex,
        1 => ReadMode.Lease,
        var b => throw r.Corrupt($"read mode {b}"),
    };

    private static EntryType Type(ref FieldReader r) => r.Byte() switch
    {
        0 => EntryType.Normal,
        1 => EntryType.NoOp,
        2 => EntryType.ConfChange,
        var b => throw r.Corrupt($"entry type {b}"),
    };

    private static byte Flags(ref FieldReader r, byte allowed)
    {
        var flags = r.Byte();
        if ((flags & ~allowed) != 0) throw r.Corrupt($"flags {flags}");
        return flags;
    }

    private static RequestVote ReadRequestVote(ref FieldReader r)
    {
        var (from, to, term, lastIndex, lastTerm) = (Node(ref r), Node(ref r), r.Int64(), r.Int64(), r.Int64());
        var flags = Flags(ref r, 3);
        return new RequestVote(from, to, term, lastIndex, lastTerm, PreVote: (flags & 1) != 0, Transfer: (flags & 2) != 0);
    }

    private static RequestVoteResponse ReadRequestVoteResponse(ref FieldReader r)
    {
        var (from, to, term) = (Node(ref r), Node(ref r), r.Int64());
        var flags = Flags(ref r, 3);
        return new RequestVoteResponse(from, to, term, Granted: (flags & 1) != 0, PreVote: (flags & 2) != 0);
    }

    private static AppendEntries ReadAppendEntries(ref FieldReader r)
    {
        var (from, to, term, prevIndex, prevTerm, commit) = (Node(ref r), Node(ref r), r.Int64(), r.Int64(), r.Int64(), r.Int64());
        var count = r.Count(EntryBytesMin);
        var entries = ImmutableArray.CreateBuilder<LogEntry>(count);
        for (var i = 0; i < count; i++) entries.Add(new LogEntry(r.Int64(), r.Int64(), Type(ref r), r.Bytes()));
        return new AppendEntries(from, to, term, prevIndex, prevTerm, entries.MoveToImmutable(), commit);
    }

    private static InstallSnapshot ReadInstallSnapshot(ref FieldReader r)
    {
        var (from, to, term, index, snapshotTerm) = (Node(ref r), Node(ref r), r.Int64(), r.Int64(), r.Int64());
        var voters = ReadInts(ref r);
        var learners = ReadInts(ref r);
        Membership membership;
        try { membership = new Membership(voters.Select(v => new NodeId(v)), learners.Select(l => new NodeId(l))); }
        catch (ArgumentException e) { throw r.Corrupt(e.Message); }
        return new InstallSnapshot(from, to, term, new SnapshotMeta(index, snapshotTerm, membership), r.Int64(), r.Bytes(), r.Bool());
    }

    private static RaftHardStateSaved ReadHardState(ref FieldReader r)
    {
        var term = r.Int64();
        var hasVote = r.Bool();
        var vote = r.Int32();
        return new RaftHardStateSaved(term, hasVote ? vote : null, r.Int64());
    }

    private static RaftEntryRecord[] ReadRecords(ref FieldReader r)
    {
        var count = r.Count(EntryBytesMin);
        if (count == 0) return [];
        var records = new RaftEntryRecord[count];
        for (var i = 0; i < count; i++) records[i] = new RaftEntryRecord(r.Int64(), r.Int64(), Type(ref r), r.Bytes());
        return records;
    }

    private static int[] ReadInts(ref FieldReader r)
    {
        var count = r.Count(4);
        if (count == 0) return [];
        var values = new int[count];
        for (var i = 0; i < count; i++) values[i] = r.Int32();
        return values;
    }
}

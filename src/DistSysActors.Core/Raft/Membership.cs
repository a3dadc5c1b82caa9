using System.Buffers.Binary;
using System.Collections.Immutable;

namespace DistSysActors.Core.Raft;

/// <summary>
/// The servers of a Raft cluster: voters form the quorum; learners receive the log but neither vote nor count toward
/// commitment (Raft dissertation 4.2.1, catching up new servers). A node uses the latest membership in its log,
/// committed or not (dissertation 4.1). An empty membership is that of a node waiting to be added to a cluster.
/// </summary>
public sealed record Membership
{
    public static readonly Membership Empty = new([], []);

    public Membership(IEnumerable<NodeId> voters, IEnumerable<NodeId> learners)
    {
        Voters = voters.Distinct().Order().ToImmutableArray();
        Learners = learners.Distinct().Order().ToImmutableArray();
        if (Voters.Intersect(Learners).Any()) throw new ArgumentException("a node cannot be both voter and learner");
    }

    public ImmutableArray<NodeId> Voters { get; }
    public ImmutableArray<NodeId> Learners { get; }

    public bool IsVoter(NodeId node) => Voters.Contains(node);
    public bool IsLearner(NodeId node) => Learners.Contains(node);
    public bool Contains(NodeId node) => IsVoter(node) || IsLearner(node);
    public IEnumerable<NodeId> All => Voters.Concat(Learners);

    /// <summary>Why change cannot be applied to this membership, or null when it can.</summary>
    public string? Check(ConfChange change) => change.Type switch
    {
        ConfChangeType.AddLearner when Contains(change.Node) => $"node {change.Node} is already a member",
        ConfChangeType.PromoteLearner when !IsLearner(change.Node) => $"node {change.Node} is not a learner",
        ConfChangeType.RemoveNode when !Contains(change.Node) => $"node {change.Node} is not a member",
        ConfChangeType.RemoveNode when IsVoter(change.Node) && Voters.Length == 1 => "the last voter cannot be removed",
        ConfChangeType.AddLearner when Voters.Length + Learners.Length >= RaftConfig.VotersMax => $"at most {RaftConfig.VotersMax} members",
        _ => null,
    };

    /// <summary>The membership after change (which must pass <see cref="Check"/>).</summary>
    public Membership Apply(ConfChange change)
    {
        if (Check(change) is { } error) throw new InvalidOperationException(error);
        return change.Type switch
        {
            ConfChangeType.AddLearner => new Membership(Voters, Learners.Add(change.Node)),
            ConfChangeType.PromoteLearner => new Membership(Voters.Add(change.Node), Learners.Remove(change.Node)),
            ConfChangeType.RemoveNode => new Membership(Voters.Remove(change.Node), Learners.Remove(change.Node)),
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };
    }

    public bool Equals(Membership? other) =>
        other is not null && Voters.SequenceEqual(other.Voters) && Learners.SequenceEqual(other.Learners);

    public override int GetHashCode() => HashCode.Combine(Voters.Length, Learners.Length, Voters.FirstOrDefault());

    public override string ToString() =>
        $"voters [{string.Join(",", Voters)}]" + (Learners.IsEmpty ? "" : $" learners [{string.Join(",", Learners)}]");
}

public enum ConfChangeType : byte
{
    /// <summary>Add a server as a non-voting learner; the leader promotes it once it has caught up.</summary>
    AddLearner = 1,
    /// <summary>Make a caught-up learner a voter.</summary>
    PromoteLearner = 2,
    /// <summary>Remove a voter or learner; a removed leader steps down once the change commits.</summary>
    RemoveNode = 3,
}

/// <summary>
/// One single-server membership change (Raft dissertation 4.2). A ConfChange log entry carries the change and the
/// whole membership it leads to (dissertation 4.1: the entry holds the new configuration), so a node that joins with
/// no configuration of its own learns the voters from the log.
/// </summary>
public sealed record ConfChange(ConfChangeType Type, NodeId Node)
{
    private const byte Version = 1;
    private const byte VersionWithMembership = 2;
    private const int ChangeBytes = 6;

    /// <summary>The change alone (no resulting membership).</summary>
    public byte[] Encode()
    {
        var bytes = new byte[ChangeBytes];
        WriteChange(bytes, Version);
        return bytes;
    }

    /// <summary>The Data of a ConfChange entry: the change followed by the membership after it.</summary>
    public byte[] EncodeEntry(Membership after)
    {
        ArgumentNullException.ThrowIfNull(after);
        var bytes = new byte[ChangeBytes + 4 + 4 * (after.Voters.Length + after.Learners.Length)];
        WriteChange(bytes, VersionWithMembership);
        var span = bytes.AsSpan(ChangeBytes);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)after.Voters.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], (ushort)after.Learners.Length);
        var at = 4;
        foreach (var n in after.Voters.Concat(after.Learners))
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], n.Value);
            at += 4;
        }
        return bytes;
    }

    private void WriteChange(byte[] bytes, byte version)
    {
        bytes[0] = version;
        bytes[1] = (byte)Type;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), Node.Value);
    }

    /// <summary>The change in <see cref="Encode"/> or <see cref="EncodeEntry"/> form.</summary>
    public static ConfChange Decode(ReadOnlySpan<byte> data)
    {
        var valid = data.Length >= ChangeBytes && data[1] is >= 1 and <= 3
            && (data[0] == Version && data.Length == ChangeBytes || data[0] == VersionWithMembership && data.Length >= ChangeBytes + 4);
        if (!valid) throw new FormatException("not an encoded ConfChange");
        return new ConfChange((ConfChangeType)data[1], new NodeId(BinaryPrimitives.ReadInt32LittleEndian(data[2..])));
    }

    /// <summary>The membership an entry in <see cref="EncodeEntry"/> form leads to; null for the change-only form.</summary>
    public static Membership? DecodeMembership(ReadOnlySpan<byte> data)
    {
        Decode(data);
        if (data[0] != VersionWithMembership) return null;
        var span = data[ChangeBytes..];
        int voters = BinaryPrimitives.ReadUInt16LittleEndian(span), learners = BinaryPrimitives.ReadUInt16LittleEndian(span[2..]);
        if (span.Length != 4 + 4 * (voters + learners)) throw new FormatException("ConfChange membership has the wrong length");
        var ids = new NodeId[voters + learners];
        for (var i = 0; i < ids.Length; i++) ids[i] = new NodeId(BinaryPrimitives.ReadInt32LittleEndian(span[(4 + 4 * i)..]));
        return new Membership(ids[..voters], ids[voters..]);
    }

    public override string ToString() => $"{Type} {Node}";
}

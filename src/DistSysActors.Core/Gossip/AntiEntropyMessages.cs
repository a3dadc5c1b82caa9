using System.Collections.Immutable;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Core.Gossip;

/// <summary>
/// A last-writer-wins version: the writer's hybrid logical clock timestamp, then the writer's node id to break ties,
/// so every replica orders any two writes of a key the same way.
/// </summary>
public readonly record struct ApVersion(HlcTimestamp Hlc, NodeId Writer) : IComparable<ApVersion>
{
    public int CompareTo(ApVersion other)
    {
        var byHlc = Hlc.CompareTo(other.Hlc);
        return byHlc != 0 ? byHlc : Writer.CompareTo(other.Writer);
    }

    public static bool operator <(ApVersion a, ApVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(ApVersion a, ApVersion b) => a.CompareTo(b) > 0;

    public override string ToString() => $"{Hlc}@{Writer}";
}

/// <summary>One key's value at a version; a null <paramref name="Value"/> is a tombstone (the key was deleted). Also the durable store's journal event.</summary>
public sealed record ApEntry(string Key, string? Value, ApVersion Version) : IWireSerialized
{
    public bool IsTombstone => Value is null;
}

/// <summary>A key and the version a replica holds, the unit of a digest.</summary>
public sealed record ApDigestEntry(string Key, ApVersion Version);

/// <summary>The anti-entropy store's wire messages: one push-pull exchange is a digest, a delta, and a reply delta.</summary>
public abstract record AntiEntropyMessage(NodeId From) : IWireSerialized;

/// <summary>Opens an exchange: the sender's version of every key it holds, tombstones included.</summary>
public sealed record ApDigest(NodeId From, ImmutableArray<ApDigestEntry> Versions) : AntiEntropyMessage(From);

/// <summary>
/// The entries the receiver lacks or holds older (push), and the keys the sender wants because the receiver's
/// digest showed them newer or unknown here (pull). A reply (<paramref name="IsReply"/>) wants nothing back.
/// </summary>
public sealed record ApDelta(NodeId From, bool IsReply, ImmutableArray<ApEntry> Entries, ImmutableArray<string> Wanted) : AntiEntropyMessage(From);

/// <summary>What a local write did: the entry it stored, or why it was refused (nothing changed then).</summary>
public abstract record ApWriteResult
{
    private ApWriteResult() { }

    public sealed record Written(ApEntry Entry) : ApWriteResult;

    public sealed record Refused(string Reason, bool TooLarge = false) : ApWriteResult;
}

/// <summary>The answer to a local write made with a request id: its entry is durable now.</summary>
public sealed record ApWriteDurable(long RequestId, ApEntry Entry);

/// <summary>A replica's whole content, its tombstones included: the durable store's snapshot.</summary>
public sealed record ApSnapshot(ImmutableArray<ApEntry> Entries) : IWireSerialized;

/// <summary>The store's counters and sizes.</summary>
public sealed record ApStoreStatus(long Rounds, long ExchangesStarted, long EntriesSent, long EntriesApplied, int Keys, int Tombstones, long TombstonesPurged, HlcTimestamp Hlc);

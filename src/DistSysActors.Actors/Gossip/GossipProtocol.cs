using DistSysActors.Core.Gossip;

namespace DistSysActors.Actors.Gossip;

/// <summary>The gossip actors' service names and local requests (never on the wire).</summary>
public static class GossipProtocol
{
    /// <summary>SWIM membership's service at the network component.</summary>
    public const string SwimService = "swim";

    /// <summary>The anti-entropy store's service at the network component.</summary>
    public const string ApService = "ap";

    public sealed record GetSwimStatus
    {
        public static readonly GetSwimStatus Instance = new();
    }

    public sealed record GetApStatus
    {
        public static readonly GetApStatus Instance = new();
    }

    /// <summary>Leave the group gracefully (tell others we are gone, then stop probing).</summary>
    public sealed record Leave
    {
        public static readonly Leave Instance = new();
    }

    public sealed record Left;

    /// <summary>Writes <paramref name="Value"/> (null: a tombstone) at once; answered with an <see cref="ApWriteResult"/>.</summary>
    public sealed record ApWrite(string Key, string? Value);

    /// <summary>Reads the local replica; answered with <see cref="ApRead"/>.</summary>
    public sealed record ApGet(string Key);

    /// <summary>The local replica's entry for the key: null if it never saw it (a tombstone if deleted).</summary>
    public sealed record ApRead(ApEntry? Entry);
}

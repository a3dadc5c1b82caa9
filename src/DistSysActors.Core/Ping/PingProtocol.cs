using System.Collections.Immutable;

namespace DistSysActors.Core.Ping;

/// <summary>Messages of the ping/pong protocol: the smallest protocol that proves the network/fault layer.</summary>
public static class PingProtocol
{
    public const string Service = "ping";

    public abstract record PingMessage(NodeId From) : IWireSerialized;
    public sealed record Ping(NodeId From, long Seq, long SentAtMs) : PingMessage(From);
    public sealed record Pong(NodeId From, long Seq, long SentAtMs) : PingMessage(From);

    public sealed record GetStats
    {
        public static readonly GetStats Instance = new();
    }

    /// <summary>Per peer: pings this node sent it, pings it received from it, pongs received back, last round trip.</summary>
    public sealed record PeerStats(long PingsSent, long PingsReceived, long PongsReceived, long? LastRttMs, long? LastPongAgeMs);

    public sealed record Stats(ImmutableSortedDictionary<NodeId, PeerStats> Peers);
}

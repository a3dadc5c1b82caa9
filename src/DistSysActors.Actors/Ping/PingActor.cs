using System.Collections.Immutable;
using Akka.Actor;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Ping;

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

/// <summary>
/// The ping/pong protocol's pure core (no actor, no clock): on each tick it pings every peer, answers pings with pongs
/// and keeps per-peer counters and the last round trip.
/// </summary>
public sealed class PingPong : IProtocolCore<PingProtocol.PingMessage, ProtocolReady<PingProtocol.PingMessage>>
{
    private readonly ReadyBuffer<PingProtocol.PingMessage> _ready = new();
    private readonly NodeId _self;
    private readonly ImmutableArray<NodeId> _peers;
    private readonly SortedDictionary<NodeId, Counters> _stats = new();
    private long _seq;

    public PingPong(NodeId self, IEnumerable<NodeId> peers)
    {
        _self = self;
        _peers = peers.Where(p => p != self).Order().ToImmutableArray();
        foreach (var peer in _peers) _stats[peer] = new Counters();
    }

    public void Tick(long nowMs)
    {
        var seq = ++_seq;
        foreach (var peer in _peers)
        {
            StatsOf(peer).PingsSent++;
            _ready.Send(peer, new PingProtocol.Ping(_self, seq, nowMs));
        }
    }

    public void Step(PingProtocol.PingMessage message, long nowMs)
    {
        switch (message)
        {
            case PingProtocol.Ping p:
                StatsOf(p.From).PingsReceived++;
                _ready.Send(p.From, new PingProtocol.Pong(_self, p.Seq, p.SentAtMs));
                break;
            case PingProtocol.Pong p:
                var s = StatsOf(p.From);
                s.PongsReceived++;
                s.LastRttMs = nowMs - p.SentAtMs;
                s.LastPongAtMs = nowMs;
                break;
        }
    }

    public bool HasReady => _ready.HasReady;

    public ProtocolReady<PingProtocol.PingMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<PingProtocol.PingMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants() =>
        [.. _stats.Where(kv => kv.Value.PongsReceived > 0 && kv.Value.LastRttMs is null).Select(kv => $"peer {kv.Key}: pongs without a round trip")];

    public PingProtocol.Stats Stats(long nowMs) => new(_stats.ToImmutableSortedDictionary(
        kv => kv.Key,
        kv => new PingProtocol.PeerStats(kv.Value.PingsSent, kv.Value.PingsReceived, kv.Value.PongsReceived, kv.Value.LastRttMs,
            kv.Value.LastPongAtMs is { } at ? nowMs - at : null)));

    private Counters StatsOf(NodeId peer)
    {
        if (!_stats.TryGetValue(peer, out var s)) _stats[peer] = s = new Counters();
        return s;
    }

    private sealed class Counters
    {
        public long PingsSent, PingsReceived, PongsReceived;
        public long? LastRttMs, LastPongAtMs;
    }
}

/// <summary>Pings every peer each interval through the node's network component and answers pings with pongs.</summary>
public sealed class PingActor : ProtocolHostActor<PingProtocol.PingMessage, ProtocolReady<PingProtocol.PingMessage>>
{
    private readonly PingPong _pingPong;

    public PingActor(NodeId self, IReadOnlyCollection<NodeId> peers, IActorRef network, TimeSpan interval)
        : base(self, new ProtocolHostSettings(PingProtocol.Service, TickInterval: interval), network, null)
    {
        _pingPong = new PingPong(self, peers);
        Receive<PingProtocol.PingMessage>(StepCore);
        ReceiveStatus<PingProtocol.GetStats>(() => _pingPong.Stats(NowMs));
        Start();
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> peers, IActorRef network, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new PingActor(self, peers, network, interval));

    protected override IProtocolCore<PingProtocol.PingMessage, ProtocolReady<PingProtocol.PingMessage>> Core => _pingPong;
}

using System.Collections.Immutable;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Ping;

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

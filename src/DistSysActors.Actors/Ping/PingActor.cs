using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using DistSysActors.Actors.Network;
using DistSysActors.Core;

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

/// <summary>Pings every peer each interval through the node's network component and answers pings with pongs.</summary>
public sealed class PingActor : ReceiveActor, IWithTimers
{
    private readonly NodeId _self;
    private readonly IActorRef _network;
    private readonly ImmutableArray<NodeId> _peers;
    private readonly SortedDictionary<NodeId, Counters> _stats = new();
    private long _seq;

    public ITimerScheduler Timers { get; set; } = null!;

    public PingActor(NodeId self, IReadOnlyCollection<NodeId> peers, IActorRef network, TimeSpan interval)
    {
        _self = self;
        _network = network;
        _peers = peers.Where(p => p != self).Order().ToImmutableArray();
        foreach (var peer in _peers) _stats[peer] = new Counters();

        Receive<PingProtocol.Ping>(p =>
        {
            StatsOf(p.From).PingsReceived++;
            _network.Tell(new NetworkProtocol.Send(p.From, PingProtocol.Service, new PingProtocol.Pong(_self, p.Seq, p.SentAtMs)));
        });
        Receive<PingProtocol.Pong>(p =>
        {
            var s = StatsOf(p.From);
            s.PongsReceived++;
            s.LastRttMs = NowMs - p.SentAtMs;
            s.LastPongAtMs = NowMs;
        });
        Receive<Tick>(_ => PingAll());
        Receive<PingProtocol.GetStats>(_ => Sender.Tell(new PingProtocol.Stats(_stats.ToImmutableSortedDictionary(
            kv => kv.Key,
            kv => new PingProtocol.PeerStats(kv.Value.PingsSent, kv.Value.PingsReceived, kv.Value.PongsReceived, kv.Value.LastRttMs,
                kv.Value.LastPongAtMs is { } at ? NowMs - at : null)))));

        _network.Tell(new NetworkProtocol.Register(PingProtocol.Service, Self));
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, interval);
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> peers, IActorRef network, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new PingActor(self, peers, network, interval));

    private static long NowMs => Stopwatch.GetTimestamp() * 1000 / Stopwatch.Frequency;

    private void PingAll()
    {
        var seq = ++_seq;
        foreach (var peer in _peers)
        {
            StatsOf(peer).PingsSent++;
            _network.Tell(new NetworkProtocol.Send(peer, PingProtocol.Service, new PingProtocol.Ping(_self, seq, NowMs)));
        }
    }

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

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }
}

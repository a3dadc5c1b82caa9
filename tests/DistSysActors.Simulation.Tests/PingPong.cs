using DistSysActors.Core;

namespace DistSysActors.Simulation.Tests;

/// <summary>A tiny protocol for exercising the simulator: pings are answered with pongs.</summary>
public abstract record PingMessage;

public sealed record Ping(int Seq, long SentAtMs) : PingMessage;

public sealed record Pong(int Seq) : PingMessage;

/// <summary>Injected from outside: asks the node to ping <paramref name="Target"/> <paramref name="Count"/> times at once.</summary>
public sealed record PingBurst(NodeId Target, int Count) : PingMessage;

public sealed record Received(NodeId From, PingMessage Message, long AtMs);

/// <summary>
/// Volatile state: what it received and its ping sequence. Durable state: how many pings it ever answered
/// (<see cref="AnsweredKey"/>) and one log record per start, so tests can tell the two apart across a crash.
/// </summary>
public sealed class PingNode : ISimNode<PingMessage>
{
    public const string AnsweredKey = "answered";
    public const string StartsLog = "starts";

    public PingNode(NodeId id, SimStorage storage)
    {
        Id = id;
        AnsweredAtCreation = storage.Get(AnsweredKey, 0);
    }

    public NodeId Id { get; }
    public int AnsweredAtCreation { get; }
    public List<Received> Inbox { get; } = [];
    public int Ticks { get; private set; }
    public NodeId? PingEveryTick { get; set; }
    private int _nextSeq;

    public IEnumerable<Ping> Pings => Inbox.Select(r => r.Message).OfType<Ping>();
    public IEnumerable<Pong> Pongs => Inbox.Select(r => r.Message).OfType<Pong>();

    public void Start(ISimContext<PingMessage> ctx) => ctx.Storage.Log<long>(StartsLog).Append(ctx.NowMs);

    public void Receive(NodeId from, PingMessage msg, ISimContext<PingMessage> ctx)
    {
        Inbox.Add(new Received(from, msg, ctx.NowMs));
        switch (msg)
        {
            case Ping ping:
                ctx.Storage.Put(AnsweredKey, ctx.Storage.Get(AnsweredKey, 0) + 1);
                ctx.Send(from, new Pong(ping.Seq));
                break;
            case PingBurst burst:
                SendPings(ctx, burst.Target, burst.Count);
                break;
        }
    }

    public void Tick(ISimContext<PingMessage> ctx)
    {
        Ticks++;
        if (PingEveryTick is { } target) SendPings(ctx, target, 1);
    }

    public void SendPings(ISimContext<PingMessage> ctx, NodeId target, int count)
    {
        for (var i = 0; i < count; i++) ctx.Send(target, new Ping(_nextSeq++, ctx.NowMs));
    }
}

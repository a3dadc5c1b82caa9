using DistSysActors.Core;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Simulation.Protocol;

/// <summary>
/// A simulated node hosting one protocol core, the simulator's twin of the actor hosts: the same core, the same
/// <see cref="ReadyExecutor"/> order, only the environment differs (<see cref="SimReadyEnvironment{TMessage}"/>:
/// the simulated network and <see cref="SimStorage"/>). The core's invariants are checked after every event.
/// </summary>
/// <remarks>
/// Writes go to the durable log <see cref="JournalName"/>; a node that recovers from it reads it back in its factory
/// (<c>storage.Log&lt;object&gt;(ProtocolSimNode.JournalName)</c>) before building its core.
/// </remarks>
public sealed class ProtocolSimNode<TCore, TMessage, TReady> : ISimNode<TMessage>
    where TCore : IProtocolCore<TMessage, TReady>
    where TMessage : notnull
    where TReady : class, IReady<TMessage>
{
    private readonly ProtocolSimOptions<TCore> _options;

    public ProtocolSimNode(TCore core, ProtocolSimOptions<TCore>? options = null)
    {
        Core = core;
        _options = options ?? new ProtocolSimOptions<TCore>();
    }

    public TCore Core { get; }

    public void Start(ISimContext<TMessage> ctx) => Drain(ctx);

    public void Receive(NodeId from, TMessage msg, ISimContext<TMessage> ctx)
    {
        Core.Step(msg, Now(ctx));
        Drain(ctx);
    }

    public void Tick(ISimContext<TMessage> ctx)
    {
        var now = Now(ctx);
        Core.Tick(now);
        _options.AfterTick?.Invoke(Core, now);
        Drain(ctx);
    }

    /// <summary>Calls the core's own API (a local request) with its clock, then executes what it caused.</summary>
    public void Invoke(ISimContext<TMessage> ctx, Action<TCore, long> call)
    {
        call(Core, Now(ctx));
        Drain(ctx);
    }

    public IReadOnlyList<string> CheckInvariants() => Core.CheckInvariants();

    private long Now(ISimContext<TMessage> ctx) => _options.ClockMs?.Invoke(ctx.Self, ctx.NowMs) ?? ctx.NowMs;

    private void Drain(ISimContext<TMessage> ctx)
    {
        if (!ReadyExecutor.Drain(Core, new SimReadyEnvironment<TMessage>(ctx, _options.OnApply, _options.OnAnswer)))
            throw new InvalidOperationException("a simulated write is durable at once, yet a Ready stayed outstanding");
    }
}

/// <summary>How a <see cref="ProtocolSimNode{TCore,TMessage,TReady}"/> reads its clock and what it does with applies and answers.</summary>
public sealed record ProtocolSimOptions<TCore>
{
    /// <summary>The core's clock at virtual time (node, virtual ms); null passes virtual time (a perfect monotonic clock).</summary>
    public Func<NodeId, long, long>? ClockMs { get; init; }

    /// <summary>Called with every applied entry (node, entry), after its writes are durable.</summary>
    public Action<NodeId, object>? OnApply { get; init; }

    /// <summary>Called with every answer or announcement (node, answer).</summary>
    public Action<NodeId, object>? OnAnswer { get; init; }

    /// <summary>Called after every tick with the core and its clock reading, before the tick's Ready is executed.</summary>
    public Action<TCore, long>? AfterTick { get; init; }
}

/// <summary>Executes Readies inside the simulator: sends through the simulated network, writes to the node's <see cref="SimStorage"/>.</summary>
public sealed class SimReadyEnvironment<TMessage>(ISimContext<TMessage> ctx, Action<NodeId, object>? onApply, Action<NodeId, object>? onAnswer)
    : IReadyEnvironment<TMessage>
    where TMessage : notnull
{
    public void Send(Outgoing<TMessage> outgoing) => ctx.Send(outgoing.To, outgoing.Message);

    /// <summary>A <see cref="SimStorage"/> write is durable on return, so the rest of the Ready follows at once.</summary>
    public void Persist(IReadOnlyList<object> writes, Action onDurable)
    {
        ctx.Storage.Log<object>(ProtocolSimNode.JournalName).AppendRange([.. writes]);
        onDurable();
    }

    public void Apply(object entry) => onApply?.Invoke(ctx.Self, entry);

    public void Answer(object answer) => onAnswer?.Invoke(ctx.Self, answer);
}

public static class ProtocolSimNode
{
    /// <summary>The <see cref="SimStorage"/> log a simulated protocol node journals its writes to.</summary>
    public const string JournalName = "journal";
}

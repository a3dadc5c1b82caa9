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
/// (<c>storage.Log&lt;object&gt;(ProtocolSimNode.JournalName)</c>) before building its core. With
/// <see cref="ProtocolSimOptions{TCore}.AsyncStorage"/> a Ready's writes go through the node's simulated disk instead, as
/// an actor's journal does: durable after the disk's seeded latency, lost (or torn) by a crash before that, while
/// messages and ticks keep stepping the core, which holds its next Ready back until the write is durable.
/// </remarks>
public sealed class ProtocolSimNode<TCore, TMessage, TReady> : ISimNode<TMessage>, IAsyncWriteObserver
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
        // With asynchronous storage a Ready may wait for its write; ReadyExecutor.Drain resumes by itself once it is durable.
        if (_writing) return;
        var environment = new SimReadyEnvironment<TMessage>(ctx, _options.OnApply, _options.OnAnswer, _options.AsyncStorage, this);
        if (!ReadyExecutor.Drain(Core, environment, () => _writing = false) && !_options.AsyncStorage)
            throw new InvalidOperationException("a simulated write is durable at once, yet a Ready stayed outstanding");
    }

    // True while a Ready's write is on the simulated disk (asynchronous storage): the drain in progress continues when it is durable.
    private bool _writing;

    void IAsyncWriteObserver.WriteStarted() => _writing = true;

    /// <summary>Whether a Ready's write is on its way to the simulated disk.</summary>
    public bool Persisting => _writing;
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

    /// <summary>Writes go through the simulated disk (seeded latency, lost or torn by a crash) instead of being durable at once.</summary>
    public bool AsyncStorage { get; init; }
}

/// <summary>Executes Readies inside the simulator: sends through the simulated network, writes to the node's <see cref="SimStorage"/>.</summary>
public sealed class SimReadyEnvironment<TMessage>(ISimContext<TMessage> ctx, Action<NodeId, object>? onApply, Action<NodeId, object>? onAnswer,
    bool asyncStorage = false, IAsyncWriteObserver? observer = null)
    : IReadyEnvironment<TMessage>
    where TMessage : notnull
{
    public void Send(Outgoing<TMessage> outgoing) => ctx.Send(outgoing.To, outgoing.Message);

    /// <summary>
    /// Synchronous storage: durable on return, so the rest of the Ready follows at once. Asynchronous: one journal event per
    /// write, one disk write per Ready, the rest of the Ready once it is durable.
    /// </summary>
    public void Persist(IReadOnlyList<object> writes, Action onDurable)
    {
        if (!asyncStorage)
        {
            ctx.Storage.Log<object>(ProtocolSimNode.JournalName).AppendRange([.. writes]);
            onDurable();
            return;
        }
        var records = new List<Action<SimStorage>>(writes.Count);
        foreach (var write in writes) records.Add(storage => storage.Log<object>(ProtocolSimNode.JournalName).Append(write));
        observer?.WriteStarted();
        ctx.Write(new SimWrite(writes.Count == 1 ? writes[0].GetType().Name : $"{writes.Count} events", records), onDurable);
    }

    public void Apply(object entry) => onApply?.Invoke(ctx.Self, entry);

    public void Answer(object answer) => onAnswer?.Invoke(ctx.Self, answer);
}

/// <summary>Told when a Ready's write goes to the simulated disk.</summary>
public interface IAsyncWriteObserver
{
    void WriteStarted();
}

public static class ProtocolSimNode
{
    /// <summary>The <see cref="SimStorage"/> log a simulated protocol node journals its writes to.</summary>
    public const string JournalName = "journal";
}

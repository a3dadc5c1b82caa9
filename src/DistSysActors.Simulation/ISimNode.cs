using DistSysActors.Core;

namespace DistSysActors.Simulation;

/// <summary>
/// A protocol adapter the simulator hosts: it feeds messages and ticks into a pure core and
/// executes the core's effects through the context (persist to <see cref="ISimContext{TMessage}.Storage"/>, then send).
/// Everything it holds in fields is volatile and lost on <c>Crash</c>; only <see cref="SimStorage"/> survives.
/// </summary>
public interface ISimNode<TMessage> where TMessage : notnull
{
    /// <summary>Called once when the node starts or restarts, before any message or tick.</summary>
    void Start(ISimContext<TMessage> ctx) { }

    /// <summary>A message from <paramref name="from"/> (or <see cref="Simulator{TMessage}.ExternalId"/> for injected input).</summary>
    void Receive(NodeId from, TMessage msg, ISimContext<TMessage> ctx);

    /// <summary>Called every <see cref="SimulatorOptions.TickIntervalMs"/> of virtual time while the node is up.</summary>
    void Tick(ISimContext<TMessage> ctx);

    /// <summary>The node's own invariants that do not hold now (a core's <c>CheckInvariants</c>); checked after every event the node handles.</summary>
    IReadOnlyList<string> CheckInvariants() => [];
}

/// <summary>What a simulated node may see and do while it handles one event.</summary>
public interface ISimContext<TMessage> where TMessage : notnull
{
    /// <summary>Virtual time in milliseconds since the simulation began.</summary>
    long NowMs { get; }

    NodeId Self { get; }

    /// <summary>The node's durable store: written data survives crashes and is all a restarted node gets back.</summary>
    SimStorage Storage { get; }

    /// <summary>A seeded random source owned by this node incarnation (forked from the simulation seed).</summary>
    DeterministicRandom Random { get; }

    /// <summary>Hands a message to the simulated network, which applies the current faults.</summary>
    void Send(NodeId to, TMessage msg);

    /// <summary>
    /// Hands <paramref name="write"/> to the node's simulated disk. Writes complete in the order given, each after a seeded
    /// latency (<see cref="SimulatorOptions.WriteLatencyMinMs"/>..<see cref="SimulatorOptions.WriteLatencyMaxMs"/>): its
    /// records are applied to <see cref="Storage"/>, then <paramref name="onDurable"/> runs as an event of this node. A
    /// crash first loses every write not completed (or tears the first, see <see cref="SimulatorOptions.TornWriteRate"/>),
    /// and <paramref name="onDurable"/> never runs. With a synchronous disk both happen before this call returns.
    /// </summary>
    void Write(SimWrite write, Action onDurable);

    /// <summary>Adds a free-form line to the trace (shown when an invariant fails).</summary>
    void Note(string text);
}

/// <summary>
/// A write for a node's simulated disk (<see cref="ISimContext{TMessage}.Write"/>): <paramref name="Records"/> are applied to
/// its <see cref="SimStorage"/> in order once the write is durable; a torn write applies only a prefix of them, so each
/// record should leave the storage in a state recovery can read (as each event of a journal batch does).
/// </summary>
/// <param name="What">Shown in the trace.</param>
public sealed record SimWrite(string What, IReadOnlyList<Action<SimStorage>> Records);

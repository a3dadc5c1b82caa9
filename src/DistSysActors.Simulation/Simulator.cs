using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Simulation;

/// <summary>
/// A deterministic discrete-event simulator for one protocol: nodes, a faulty network, crashes and restarts,
/// all in virtual milliseconds and driven by one seed. Events run in (time, insertion order), so a run
/// replays exactly from its seed; registered invariants are checked after every event.
/// </summary>
/// <remarks>
/// A crash drops the node instance (its volatile state), every message in flight to it and every write its disk had
/// not completed; messages it sent before crashing stay on the wire. A restart calls the node factory again with the
/// same <see cref="SimStorage"/>. A pause stops a node's process for a while without losing anything.
/// </remarks>
public sealed class Simulator<TMessage> where TMessage : notnull
{
    /// <summary>The sender of injected input (clients, tests); never a real node.</summary>
    public static readonly NodeId ExternalId = new(0);

    private readonly PriorityQueue<Event, (long AtMs, long Seq)> _queue = new();
    private readonly SortedDictionary<NodeId, NodeSlot> _nodes = new();
    private readonly DeterministicRandom _random;
    // The disks' latencies and tears: a stream of its own, so the other streams stay as they were without writes.
    private readonly DeterministicRandom _diskRandom;
    private readonly TraceRing _trace;
    private long _sequence;
    private long _traceIndex;
    private long _crashes, _restarts, _partitionsSet, _writesLostToCrash, _tornWrites, _pauses;

    public Simulator(long seed) : this(new SimulatorOptions { Seed = seed }) { }

    public Simulator(SimulatorOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(options));
        Options = options;
        _random = new DeterministicRandom(options.Seed);
        _diskRandom = new DeterministicRandom(unchecked(options.Seed ^ DiskSeedSalt));
        Network = new SimNetwork(_random.Fork(), options.LatencyMinMs, options.LatencyMaxMs);
        _trace = new TraceRing(options.TraceEventsMax);
    }

    public SimulatorOptions Options { get; }
    public long Seed => Options.Seed;
    public long NowMs { get; private set; }
    public long EventsProcessed { get; private set; }
    public int EventsQueued => _queue.Count;
    public SimNetwork Network { get; }
    public SimInvariants Invariants { get; } = new();

    /// <summary>The faults of the run so far (crashes, restarts, partitions, and what the network lost, delayed, duplicated).</summary>
    public SimFaultCounters FaultCounters
    {
        get
        {
            var n = Network.PlannerCounters;
            return new(_crashes, _restarts, _partitionsSet, n.DroppedByPartition, n.Dropped, n.Duplicated, n.Delayed, Network.MessagesLostToCrash,
                _writesLostToCrash, _tornWrites, _pauses);
        }
    }

    /// <summary>Receives every trace event as it happens (e.g. to compare whole runs); the ring keeps only the recent ones.</summary>
    public Action<SimTraceEvent>? TraceListener { get; set; }

    public IReadOnlyList<SimTraceEvent> RecentTrace(int max) => _trace.Last(max);

    public IReadOnlyList<NodeId> NodeIds => _nodes.Keys.ToArray();

    /// <summary>A random source derived from the seed, for factories and scenarios (calls in the same order replay the same).</summary>
    public DeterministicRandom ForkRandom() => _random.Fork();

    // ---- nodes ----

    /// <summary>Adds a node and starts it at the current time; <paramref name="factory"/> is called again on every restart.</summary>
    public void AddNode(NodeId id, Func<NodeId, SimStorage, ISimNode<TMessage>> factory)
    {
        if (id == ExternalId) throw new ArgumentException($"node id {ExternalId} is reserved for external input", nameof(id));
        if (_nodes.ContainsKey(id)) throw new ArgumentException($"node {id} already exists", nameof(id));
        var slot = new NodeSlot(id, factory, new SimStorage(id));
        _nodes.Add(id, slot);
        Boot(slot);
    }

    public void AddNodes(IEnumerable<NodeId> ids, Func<NodeId, SimStorage, ISimNode<TMessage>> factory)
    {
        foreach (var id in ids.Order()) AddNode(id, factory);
    }

    public bool IsUp(NodeId id) => Slot(id).Instance is not null;

    /// <summary>The running instance, or null while the node is crashed.</summary>
    public ISimNode<TMessage>? Node(NodeId id) => Slot(id).Instance;

    public TNode? Node<TNode>(NodeId id) where TNode : class, ISimNode<TMessage> => Slot(id).Instance as TNode;

    public SimStorage Storage(NodeId id) => Slot(id).Storage;

    /// <summary>How many times the node has started (1 after <see cref="AddNode"/>, +1 per restart).</summary>
    public int Incarnation(NodeId id) => Slot(id).Incarnation;

    /// <summary>
    /// Stops the node: its volatile state, every message in flight to it and every write its disk had not completed are
    /// lost (with <see cref="SimulatorOptions.TornWriteRate"/>, a prefix of the first such write may persist). No-op if already down.
    /// </summary>
    public void Crash(NodeId id)
    {
        var slot = Slot(id);
        if (slot.Instance is null) return;
        slot.Instance = null;
        slot.Context = null;
        slot.PausedUntilMs = 0;
        _crashes++;
        Trace(SimTraceKind.Crash, id, null, null);
        LoseWritesInFlight(slot);
    }

    /// <summary>
    /// Stops the node's process for <paramref name="durationMs"/> (a GC pause, SIGSTOP) without losing anything: its
    /// ticks in that span are skipped, and messages wait and are handled, in the order they came, when it resumes. Its disk
    /// works on: writes become durable on time, and the node learns it when it resumes. Virtual time runs on for everyone
    /// else. Returns false if the node is down.
    /// </summary>
    public bool Pause(NodeId id, long durationMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(durationMs);
        var slot = Slot(id);
        if (slot.Instance is null) return false;
        slot.PausedUntilMs = Math.Max(slot.PausedUntilMs, NowMs + durationMs);
        _pauses++;
        Trace(SimTraceKind.Pause, id, null, slot.PausedUntilMs);
        return true;
    }

    /// <summary>Whether the node is up but its process is paused now.</summary>
    public bool IsPaused(NodeId id) => Slot(id) is { Instance: not null } slot && slot.PausedUntilMs > NowMs;

    /// <summary>Writes handed to the node's disk and not yet durable.</summary>
    public int WritesInFlight(NodeId id) => Slot(id).Disk.Count;

    /// <summary>Starts the node again from its <see cref="SimStorage"/> alone; a running node is crashed first.</summary>
    public void Restart(NodeId id)
    {
        var slot = Slot(id);
        Crash(id);
        _restarts++;
        Trace(SimTraceKind.Restart, id, null, null);
        Boot(slot);
    }

    private void Boot(NodeSlot slot)
    {
        slot.Incarnation++;
        var context = new NodeContext(this, slot, slot.Incarnation, _random.Fork());
        slot.Context = context;
        slot.Instance = Guard($"node {slot.Id} factory", () => slot.Factory(slot.Id, slot.Storage));
        Enqueue(new Event(EventKind.Start, slot.Id, ExternalId, default, slot.Incarnation, null, null), NowMs);
        var phaseMs = _random.NextInt(1, Options.TickIntervalMs + 1);
        Enqueue(new Event(EventKind.Tick, slot.Id, ExternalId, default, slot.Incarnation, null, null), NowMs + phaseMs);
    }

    // ---- faults ----

    public FaultSpec Faults => Network.Faults;

    /// <summary>Installs a fault spec from now on (messages already in flight keep their fate). Throws on an invalid spec.</summary>
    public void SetFaults(FaultSpec spec)
    {
        Network.Apply(spec);
        if (!spec.Partitions.IsDefaultOrEmpty) _partitionsSet++;
        Trace(SimTraceKind.Faults, ExternalId, null, Describe(spec));
    }

    /// <summary>Replaces the partition groups, keeping the other faults; unlisted nodes form one more group.</summary>
    public void Partition(params IEnumerable<NodeId>[] groups) =>
        SetFaults(Faults with { Partitions = groups.Select(g => g.ToImmutableArray()).ToImmutableArray() });

    public void Partition(params int[][] groups) => Partition(groups.Select(g => g.Select(n => new NodeId(n))).ToArray());

    /// <summary>Cuts one node off from all others.</summary>
    public void Isolate(NodeId id) => Partition([id]);

    /// <summary>Removes every partition, keeping drop, delay, duplicate and reorder settings.</summary>
    public void Heal() => SetFaults(Faults with { Partitions = ImmutableArray<ImmutableArray<NodeId>>.Empty });

    /// <summary>No faults at all: only the base latency remains.</summary>
    public void ClearFaults() => SetFaults(FaultSpec.None);

    // ---- external input ----

    /// <summary>Runs <paramref name="action"/> at virtual time <paramref name="atMs"/> as an event (invariants are checked after it).</summary>
    public void Schedule(long atMs, Action action, string? label = null)
    {
        if (atMs < NowMs) throw new ArgumentOutOfRangeException(nameof(atMs), $"cannot schedule at {atMs}ms, now is {NowMs}ms");
        Enqueue(new Event(EventKind.Action, ExternalId, ExternalId, default, 0, action, label), atMs);
    }

    /// <summary>Delivers <paramref name="msg"/> to <paramref name="node"/> from <see cref="ExternalId"/> at <paramref name="atMs"/> (default now), bypassing the network; lost if the node is down then.</summary>
    public void Inject(NodeId node, TMessage msg, long? atMs = null)
    {
        Slot(node);
        var at = atMs ?? NowMs;
        if (at < NowMs) throw new ArgumentOutOfRangeException(nameof(atMs), $"cannot inject at {at}ms, now is {NowMs}ms");
        Enqueue(new Event(EventKind.Deliver, node, ExternalId, msg, AnyIncarnation, null, null), at);
    }

    /// <summary>
    /// Calls into a running node right now with its context (e.g. a client request on the adapter's own API), so its sends
    /// go through the network. Returns false, calling nothing, if the node is down.
    /// </summary>
    public bool Invoke<TNode>(NodeId node, Action<TNode, ISimContext<TMessage>> call) where TNode : class, ISimNode<TMessage>
    {
        var slot = Slot(node);
        if (slot.Instance is null || slot.Context is null) return false;
        var instance = slot.Instance as TNode
            ?? throw new InvalidCastException($"node {node} is a {slot.Instance.GetType().Name}, not {typeof(TNode).Name}");
        var context = slot.Context;
        Guard($"invoke on node {node}", () => call(instance, context));
        return true;
    }

    // ---- running ----

    /// <summary>Processes the next event. Returns false when the queue is empty.</summary>
    public bool Step()
    {
        if (!_queue.TryDequeue(out var e, out var key)) return false;
        NowMs = key.AtMs;
        if (++EventsProcessed > Options.EventsProcessedMax)
            throw Failure($"EventsProcessedMax={Options.EventsProcessedMax} exceeded", null);
        var touched = Execute(e);
        CheckNodeInvariants(touched);
        CheckInvariants();
        return true;
    }

    /// <summary>Processes every event due within the next <paramref name="ms"/> virtual milliseconds, then sets the clock to the end of that span.</summary>
    public void RunFor(long ms)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ms);
        var deadline = NowMs + ms;
        while (_queue.TryPeek(out _, out var key) && key.AtMs <= deadline) Step();
        NowMs = deadline;
    }

    /// <summary>Runs until <paramref name="condition"/> holds (checked before the first and after every event) or <paramref name="maxMs"/> pass; returns whether it held.</summary>
    public bool RunUntil(Func<bool> condition, long maxMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMs);
        var deadline = NowMs + maxMs;
        if (condition()) return true;
        while (_queue.TryPeek(out _, out var key) && key.AtMs <= deadline)
        {
            Step();
            if (condition()) return true;
        }
        NowMs = deadline;
        return condition();
    }

    /// <summary>Runs one event; returns the node it ran on (null: test code, which may touch any node; none: nothing ran).</summary>
    private (bool Ran, NodeSlot? Node) Execute(Event e)
    {
        switch (e.Kind)
        {
            case EventKind.Action:
                Trace(SimTraceKind.Action, ExternalId, null, e.Label);
                Guard($"scheduled action {e.Label}", e.Action!);
                return (true, null);
            case EventKind.Start:
            {
                var slot = _nodes[e.To];
                if (!IsCurrent(slot, e.Incarnation) || Deferred(slot, e)) return default;
                Trace(SimTraceKind.Start, e.To, null, slot.Incarnation);
                Guard($"node {e.To} Start", () => slot.Instance!.Start(slot.Context!));
                return (true, slot);
            }
            case EventKind.Tick:
            {
                var slot = _nodes[e.To];
                if (!IsCurrent(slot, e.Incarnation)) return default;
                Enqueue(e, NowMs + Options.TickIntervalMs);
                if (slot.PausedUntilMs > NowMs) return default; // a paused process misses its timer
                if (Options.TraceTicks) Trace(SimTraceKind.Tick, e.To, null, null);
                Guard($"node {e.To} Tick", () => slot.Instance!.Tick(slot.Context!));
                return (true, slot);
            }
            case EventKind.Deliver:
            {
                var typeName = e.Message!.GetType().Name;
                if (!_nodes.TryGetValue(e.To, out var slot) || !IsCurrent(slot, e.Incarnation))
                {
                    Network.OnLostToCrash();
                    Trace(SimTraceKind.LostToCrash, e.To, e.From, e.Message);
                    return default;
                }
                if (Deferred(slot, e)) return default;
                Network.OnDelivered(typeName);
                Trace(SimTraceKind.Delivered, e.To, e.From, e.Message);
                Guard($"node {e.To} Receive {typeName} from {e.From}", () => slot.Instance!.Receive(e.From, e.Message!, slot.Context!));
                return (true, slot);
            }
            case EventKind.WriteDone:
            {
                var slot = _nodes[e.To];
                // A crash emptied the disk's queue: this write was lost (and counted) then.
                if (!IsCurrent(slot, e.Incarnation)) return default;
                var write = slot.Disk.Dequeue();
                foreach (var record in write.Write.Records) Guard($"node {e.To} write {write.Write.What}", () => record(slot.Storage));
                Trace(SimTraceKind.WriteDone, e.To, null, write.Write.What);
                // The disk works on while the process is paused; the process learns of it when it resumes.
                var durable = new Event(EventKind.Durable, e.To, ExternalId, default, e.Incarnation, write.OnDurable, write.Write.What);
                return Deferred(slot, durable) ? (true, slot) : RunDurable(slot, durable);
            }
            case EventKind.Durable:
            {
                var slot = _nodes[e.To];
                if (!IsCurrent(slot, e.Incarnation) || Deferred(slot, e)) return default;
                return RunDurable(slot, e);
            }
            default:
                return default;
        }
    }

    private (bool Ran, NodeSlot? Node) RunDurable(NodeSlot slot, Event e)
    {
        Guard($"node {slot.Id} write {e.Label} durable", e.Action!);
        return (true, slot);
    }

    /// <summary>An event for a paused node waits until it resumes (events that came due meanwhile keep their order).</summary>
    private bool Deferred(NodeSlot slot, Event e)
    {
        if (slot.PausedUntilMs <= NowMs) return false;
        Enqueue(e, slot.PausedUntilMs);
        return true;
    }

    // ---- disk ----

    private void Write(NodeSlot slot, SimWrite write, Action onDurable)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(onDurable);
        if (Options.WriteLatencyMaxMs == 0)
        {
            // A synchronous disk: durable before Write returns.
            foreach (var record in write.Records) record(slot.Storage);
            Trace(SimTraceKind.WriteDone, slot.Id, null, write.What);
            onDurable();
            return;
        }
        var latency = Options.WriteLatencyMinMs == Options.WriteLatencyMaxMs
            ? Options.WriteLatencyMinMs
            : _diskRandom.NextInt(Options.WriteLatencyMinMs, Options.WriteLatencyMaxMs + 1);
        // FIFO: a write completes no earlier than the one queued before it.
        var dueMs = Math.Max(NowMs, slot.DiskDueMs) + latency;
        slot.DiskDueMs = dueMs;
        slot.Disk.Enqueue(new PendingWrite(write, onDurable));
        Enqueue(new Event(EventKind.WriteDone, slot.Id, ExternalId, default, slot.Incarnation, null, write.What), dueMs);
    }

    private void LoseWritesInFlight(NodeSlot slot)
    {
        if (slot.Disk.Count == 0) return;
        var first = slot.Disk.Peek().Write;
        if (first.Records.Count >= 2 && _diskRandom.Chance(Options.TornWriteRate))
        {
            // Torn: the disk had stored a proper prefix of the records when the power went.
            var kept = _diskRandom.NextInt(1, first.Records.Count);
            for (var i = 0; i < kept; i++) first.Records[i](slot.Storage);
            _tornWrites++;
            Trace(SimTraceKind.WriteTorn, slot.Id, null, $"{first.What}: {kept} of {first.Records.Count} records");
        }
        _writesLostToCrash += slot.Disk.Count;
        Trace(SimTraceKind.WritesLost, slot.Id, null, first.What, slot.Disk.Count);
        slot.Disk.Clear();
        slot.DiskDueMs = 0;
    }

    /// <summary>A node's own invariants, after an event it handled (every node's after test code).</summary>
    private void CheckNodeInvariants((bool Ran, NodeSlot? Node) touched)
    {
        if (!touched.Ran) return;
        if (touched.Node is { } one) { CheckNodeInvariants(one); return; }
        foreach (var slot in _nodes.Values) CheckNodeInvariants(slot);
    }

    private void CheckNodeInvariants(NodeSlot slot)
    {
        if (slot.Instance is not { } node) return;
        var violations = Guard($"node {slot.Id} CheckInvariants", node.CheckInvariants);
        if (violations.Count == 0) return;
        var name = $"node {slot.Id}";
        var violation = string.Join("; ", violations);
        throw new InvariantViolationException(Report($"invariant '{name}' violated: {violation}"), Seed, NowMs, name, violation);
    }

    private const int AnyIncarnation = -1;

    private static bool IsCurrent(NodeSlot slot, int incarnation) =>
        slot.Instance is not null && (incarnation == AnyIncarnation || incarnation == slot.Incarnation);

    private void Send(NodeSlot from, TMessage msg, NodeId to)
    {
        var times = Network.Plan(from.Id, to, NowMs, msg.GetType().Name);
        Trace(SimTraceKind.Sent, from.Id, to, msg, times.Count);
        // Bind each copy to the receiver's current incarnation: a crash or restart before arrival loses it.
        var incarnation = _nodes.TryGetValue(to, out var target) && target.Instance is not null ? target.Incarnation : int.MinValue;
        foreach (var at in times) Enqueue(new Event(EventKind.Deliver, to, from.Id, msg, incarnation, null, null), at);
    }

    private void Enqueue(Event e, long atMs)
    {
        if (_queue.Count >= Options.EventsQueuedMax)
            throw Failure($"EventsQueuedMax={Options.EventsQueuedMax} exceeded", null);
        _queue.Enqueue(e, (atMs, _sequence++));
    }

    private void CheckInvariants()
    {
        if (Invariants.Count == 0) return;
        if (Invariants.FirstViolation() is not { } v) return;
        throw new InvariantViolationException(Report($"invariant '{v.Name}' violated: {v.Violation}"), Seed, NowMs, v.Name, v.Violation);
    }

    private void Guard(string what, Action action) => Guard(what, () => { action(); return 0; });

    private T Guard<T>(string what, Func<T> action)
    {
        try { return action(); }
        catch (SimulationException) { throw; }
        catch (Exception e) { throw Failure($"{what} threw {e.GetType().Name}: {e.Message}", e); }
    }

    private SimulationException Failure(string what, Exception? inner) => new(Report(what), Seed, NowMs, inner);

    /// <summary>A failure description that lets the run be replayed: seed, virtual time and the recent trace.</summary>
    public string Report(string what)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{what} (seed={Seed}, t={NowMs}ms, event {EventsProcessed}; replay with DISTSYS_SEED={Seed})");
        var recent = _trace.Last(Options.TraceEventsReportedMax);
        if (recent.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nlast {recent.Count} trace events:");
            foreach (var e in recent) text.Append("\n  ").Append(e);
        }
        return text.ToString();
    }

    private void Trace(SimTraceKind kind, NodeId node, NodeId? peer, object? detail, int deliveries = 0)
    {
        var e = new SimTraceEvent(_traceIndex++, NowMs, kind, node, peer, detail, deliveries);
        _trace.Add(e);
        TraceListener?.Invoke(e);
    }

    private static string Describe(FaultSpec spec)
    {
        if (spec.IsNone) return "none";
        var groups = spec.Partitions.IsDefaultOrEmpty ? "" : "partitions=" + string.Join("|", spec.Partitions.Select(g => string.Join(",", g))) + " ";
        return string.Create(CultureInfo.InvariantCulture,
            $"{groups}drop={spec.DropRate} delay=[{spec.DelayMinMs},{spec.DelayMaxMs}]ms dup={spec.DuplicateRate} reorder={spec.Reorder}");
    }

    private NodeSlot Slot(NodeId id) =>
        _nodes.TryGetValue(id, out var slot) ? slot : throw new ArgumentException($"unknown node {id}", nameof(id));

    // WriteDone: a write's records reach the storage; Durable: its node learns it (later while the node is paused).
    private enum EventKind { Deliver, Tick, Start, Action, WriteDone, Durable }

    private const long DiskSeedSalt = 0x5D15C0FFEE;

    private sealed record PendingWrite(SimWrite Write, Action OnDurable);

    private sealed record Event(EventKind Kind, NodeId To, NodeId From, TMessage? Message, int Incarnation, Action? Action, string? Label);

    private sealed class NodeSlot(NodeId id, Func<NodeId, SimStorage, ISimNode<TMessage>> factory, SimStorage storage)
    {
        public NodeId Id { get; } = id;
        public Func<NodeId, SimStorage, ISimNode<TMessage>> Factory { get; } = factory;
        public SimStorage Storage { get; } = storage;
        public ISimNode<TMessage>? Instance { get; set; }
        public NodeContext? Context { get; set; }
        public int Incarnation { get; set; }
        /// <summary>Writes not yet durable, in completion order; emptied by a crash.</summary>
        public Queue<PendingWrite> Disk { get; } = new();
        /// <summary>When the last write queued on the disk completes.</summary>
        public long DiskDueMs { get; set; }
        public long PausedUntilMs { get; set; }
    }

    private sealed class NodeContext(Simulator<TMessage> sim, NodeSlot slot, int incarnation, DeterministicRandom random) : ISimContext<TMessage>
    {
        public long NowMs => sim.NowMs;
        public NodeId Self => slot.Id;
        public SimStorage Storage => slot.Storage;
        public DeterministicRandom Random { get; } = random;

        public void Send(NodeId to, TMessage msg)
        {
            ArgumentNullException.ThrowIfNull(msg);
            // A context kept past its node's crash must not speak for the restarted node.
            if (slot.Instance is null || slot.Incarnation != incarnation) return;
            sim.Send(slot, msg, to);
        }

        public void Note(string text) => sim.Trace(SimTraceKind.Note, slot.Id, null, text);

        public void Write(SimWrite write, Action onDurable)
        {
            // Like Send: a context kept past its node's crash must not write for the restarted node.
            if (slot.Instance is null || slot.Incarnation != incarnation) return;
            sim.Write(slot, write, onDurable);
        }
    }
}

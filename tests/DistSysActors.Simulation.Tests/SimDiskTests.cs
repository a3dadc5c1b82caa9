using DistSysActors.Core;

namespace DistSysActors.Simulation.Tests;

/// <summary>The simulated disk (<see cref="ISimContext{TMessage}.Write"/>) and process pauses.</summary>
public sealed class SimDiskTests
{
    private static readonly NodeId N1 = new(1), N2 = new(2);

    /// <summary>Writes records to the durable log "disk" and notes, in volatile state, what became durable when.</summary>
    private sealed class WriterNode : ISimNode<string>
    {
        public const string LogName = "disk";

        public List<(string What, long AtMs)> Durable { get; } = [];
        public List<(string Message, long AtMs)> Received { get; } = [];
        public int Ticks { get; private set; }

        public void Receive(NodeId from, string msg, ISimContext<string> ctx) => Received.Add((msg, ctx.NowMs));

        public void Tick(ISimContext<string> ctx) => Ticks++;

        /// <summary>One write of <paramref name="records"/> records named what/0, what/1, ...</summary>
        public void Write(ISimContext<string> ctx, string what, int records) =>
            ctx.Write(new SimWrite(what, Enumerable.Range(0, records).Select(i => (Action<SimStorage>)(s => s.Log<string>(LogName).Append($"{what}/{i}"))).ToList()),
                () => Durable.Add((what, ctx.NowMs)));
    }

    private static Simulator<string> Sim(long seed, SimulatorOptions? options = null)
    {
        var sim = new Simulator<string>((options ?? new SimulatorOptions()) with { Seed = seed });
        sim.AddNodes([N1, N2], (_, _) => new WriterNode());
        return sim;
    }

    private static WriterNode Node(Simulator<string> sim, NodeId id) => sim.Node<WriterNode>(id) ?? throw new InvalidOperationException($"node {id} is down");

    private static void Write(Simulator<string> sim, NodeId id, string what, int records) =>
        Assert.True(sim.Invoke<WriterNode>(id, (n, ctx) => n.Write(ctx, what, records)));

    private static IReadOnlyList<string> Disk(Simulator<string> sim, NodeId id) => sim.Storage(id).Log<string>(WriterNode.LogName).ReadAll();

    [Fact]
    public void Writes_become_durable_in_order_after_the_seeded_latency()
    {
        var sim = Sim(3, new SimulatorOptions { WriteLatencyMinMs = 2, WriteLatencyMaxMs = 6 });
        sim.RunFor(5);
        var start = sim.NowMs;
        foreach (var what in new[] { "a", "b", "c", "d" }) Write(sim, N1, what, 2);
        Assert.Empty(Disk(sim, N1)); // nothing is durable on return
        Assert.Equal(4, sim.WritesInFlight(N1));

        sim.RunFor(100);
        var durable = Node(sim, N1).Durable;
        Assert.Equal(["a", "b", "c", "d"], durable.Select(d => d.What));
        Assert.True(durable[0].AtMs >= start + 2, $"first write durable at {durable[0].AtMs}");
        // FIFO: each write takes its own latency after the one before it.
        for (var i = 1; i < durable.Count; i++) Assert.True(durable[i].AtMs >= durable[i - 1].AtMs + 2, $"write {i} at {durable[i].AtMs}");
        Assert.Equal(["a/0", "a/1", "b/0", "b/1", "c/0", "c/1", "d/0", "d/1"], Disk(sim, N1));
        Assert.Equal(0, sim.WritesInFlight(N1));
    }

    [Fact]
    public void A_disk_without_latency_is_synchronous()
    {
        var sim = Sim(5, new SimulatorOptions { WriteLatencyMinMs = 0, WriteLatencyMaxMs = 0 });
        Write(sim, N1, "a", 3);
        Assert.Equal(["a/0", "a/1", "a/2"], Disk(sim, N1));
        Assert.Equal([("a", 0L)], Node(sim, N1).Durable);
    }

    [Fact]
    public void A_crash_loses_every_write_in_flight_and_its_callback()
    {
        var sim = Sim(7, new SimulatorOptions { WriteLatencyMinMs = 5, WriteLatencyMaxMs = 5 });
        Write(sim, N1, "kept", 1);
        sim.RunFor(5);
        Write(sim, N1, "a", 2);
        Write(sim, N1, "b", 1);
        Write(sim, N2, "other", 1);
        var crashed = Node(sim, N1);
        sim.RunFor(4);
        sim.Crash(N1);
        sim.RunFor(50);

        Assert.Equal(["kept"], crashed.Durable.Select(d => d.What));
        Assert.Equal(["kept/0"], Disk(sim, N1));
        Assert.Equal(["other/0"], Disk(sim, N2)); // another node's disk is not touched
        Assert.Equal((WritesLostToCrash: 2L, TornWrites: 0L), (sim.FaultCounters.WritesLostToCrash, sim.FaultCounters.TornWrites));
        sim.Restart(N1);
        Assert.Equal(["kept/0"], Disk(sim, N1));
    }

    [Fact]
    public void A_torn_write_leaves_a_proper_prefix_of_its_records_and_loses_the_writes_behind_it()
    {
        var kept = new HashSet<int>();
        for (var seed = 1; seed <= 30; seed++)
        {
            var sim = Sim(seed, new SimulatorOptions { WriteLatencyMinMs = 5, WriteLatencyMaxMs = 5, TornWriteRate = 1 });
            Write(sim, N1, "a", 5);
            Write(sim, N1, "b", 3);
            sim.RunFor(2);
            sim.Crash(N1);
            sim.RunFor(50);
            var disk = Disk(sim, N1);
            Assert.InRange(disk.Count, 1, 4);
            Assert.Equal(Enumerable.Range(0, disk.Count).Select(i => $"a/{i}"), disk);
            Assert.Equal((WritesLostToCrash: 2L, TornWrites: 1L), (sim.FaultCounters.WritesLostToCrash, sim.FaultCounters.TornWrites));
            kept.Add(disk.Count);
        }
        Assert.True(kept.Count >= 3, $"torn writes kept only {string.Join(",", kept)} records");

        // A single record cannot be torn: it is lost whole.
        var single = Sim(1, new SimulatorOptions { WriteLatencyMinMs = 5, WriteLatencyMaxMs = 5, TornWriteRate = 1 });
        Write(single, N1, "a", 1);
        single.Crash(N1);
        Assert.Empty(Disk(single, N1));
        Assert.Equal(0, single.FaultCounters.TornWrites);
    }

    [Fact]
    public void A_paused_node_misses_its_ticks_and_handles_what_came_meanwhile_in_order_when_it_resumes()
    {
        var sim = Sim(11, new SimulatorOptions { TickIntervalMs = 10, WriteLatencyMinMs = 3, WriteLatencyMaxMs = 3 });
        sim.RunFor(20);
        var node = Node(sim, N1);
        var ticks = node.Ticks;
        Write(sim, N1, "w", 1);
        Assert.True(sim.Pause(N1, 200));
        Assert.True(sim.IsPaused(N1));
        sim.Inject(N1, "first", sim.NowMs + 50);
        sim.Inject(N1, "second", sim.NowMs + 60);
        var resume = sim.NowMs + 200;

        sim.RunFor(199);
        Assert.Equal(ticks, node.Ticks);
        Assert.Empty(node.Received);
        Assert.Empty(node.Durable); // the disk finished, but the process has not seen it
        Assert.Equal(["w/0"], Disk(sim, N1));
        Assert.True(Node(sim, N2).Ticks >= 20); // time ran on for the others

        sim.RunFor(30);
        Assert.False(sim.IsPaused(N1));
        Assert.Equal([("first", resume), ("second", resume)], node.Received);
        Assert.Equal([("w", resume)], node.Durable);
        Assert.InRange(node.Ticks - ticks, 2, 3);
        Assert.Equal(1, sim.FaultCounters.Pauses);
    }
}

using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Simulation.Tests;

public class SimulatorTests
{
    private static readonly NodeId N1 = new(1), N2 = new(2), N3 = new(3);

    private static Simulator<PingMessage> Cluster(long seed, int nodes = 2, SimulatorOptions? options = null)
    {
        var sim = new Simulator<PingMessage>((options ?? new SimulatorOptions()) with { Seed = seed });
        sim.AddNodes(Enumerable.Range(1, nodes).Select(i => new NodeId(i)), (id, storage) => new PingNode(id, storage));
        return sim;
    }

    private static PingNode Node(Simulator<PingMessage> sim, NodeId id) => sim.Node<PingNode>(id) ?? throw new InvalidOperationException($"node {id} is down");

    private static void Burst(Simulator<PingMessage> sim, NodeId from, NodeId to, int count) =>
        Assert.True(sim.Invoke<PingNode>(from, (n, ctx) => n.SendPings(ctx, to, count)));

    private static List<string> TracedRun(long seed)
    {
        var sim = Cluster(seed, nodes: 3);
        var trace = new List<string>();
        sim.TraceListener = e => trace.Add(e.ToString());
        sim.SetFaults(new FaultSpec { DropRate = 0.2, DelayMinMs = 0, DelayMaxMs = 30, DuplicateRate = 0.1, Reorder = true });
        Node(sim, N1).PingEveryTick = N2;
        Node(sim, N3).PingEveryTick = N1;
        sim.Schedule(300, () => sim.Crash(N2));
        sim.Schedule(400, () => sim.Restart(N2));
        sim.RunFor(1_000);
        return trace;
    }

    [Fact]
    public void Same_seed_replays_an_identical_trace()
    {
        var first = TracedRun(42);
        var second = TracedRun(42);
        Assert.True(first.Count > 100, $"trace too short to prove anything: {first.Count}");
        Assert.Equal(first, second);
    }

    [Fact]
    public void Different_seeds_give_different_traces()
    {
        var baseline = TracedRun(1);
        var differing = Enumerable.Range(2, 5).Count(seed => !TracedRun(seed).SequenceEqual(baseline));
        Assert.Equal(5, differing);
    }

    [Fact]
    public void Events_at_the_same_time_run_in_insertion_order()
    {
        var sim = Cluster(7);
        var order = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            var k = i;
            sim.Schedule(50, () => order.Add(k));
        }
        sim.Schedule(40, () => order.Add(-1));
        sim.RunFor(100);
        Assert.Equal([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], order);
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Schedule(99, () => { }));
    }

    [Fact]
    public void Each_node_ticks_once_per_interval()
    {
        var sim = Cluster(3, options: new SimulatorOptions { TickIntervalMs = 10 });
        sim.RunFor(1_000);
        foreach (var id in sim.NodeIds)
            Assert.InRange(Node(sim, id).Ticks, 99, 100);
        Assert.Equal(1_000, sim.NowMs);
    }

    [Fact]
    public void Without_faults_every_ping_is_answered_within_the_base_latency()
    {
        var sim = Cluster(5, options: new SimulatorOptions { LatencyMinMs = 2, LatencyMaxMs = 4 });
        Burst(sim, N1, N2, 50);
        sim.RunFor(100);
        var pings = Node(sim, N2).Inbox.Where(r => r.Message is Ping).ToList();
        Assert.Equal(50, pings.Count);
        Assert.All(pings, r => Assert.InRange(r.AtMs - ((Ping)r.Message).SentAtMs, 2, 4));
        Assert.Equal(50, Node(sim, N1).Pongs.Count());
        Assert.Equal(50, sim.Network.SentOf<Ping>());
        Assert.Equal(50, sim.Network.SentOf<Pong>());
        Assert.Equal(100, sim.Network.MessagesSent);
        Assert.Equal(100, sim.Network.MessagesDelivered);
        Assert.Equal(50, sim.Network.DeliveredByType[nameof(Pong)]);
    }

    [Fact]
    public void Partitioned_peers_get_no_pongs_until_healed()
    {
        var sim = Cluster(11, nodes: 3);
        sim.Partition([1], [2, 3]);
        Burst(sim, N1, N2, 5);
        Burst(sim, N1, N3, 5);
        Burst(sim, N2, N3, 5);
        sim.RunFor(200);
        Assert.Empty(Node(sim, N1).Pongs);
        Assert.Empty(Node(sim, N2).Pings);
        Assert.Equal(5, Node(sim, N2).Pongs.Count());
        Assert.Equal(10, sim.Network.PlannerCounters.DroppedByPartition);

        sim.Heal();
        Assert.True(sim.Faults.IsNone);
        Burst(sim, N1, N2, 5);
        Burst(sim, N1, N3, 5);
        sim.RunFor(200);
        Assert.Equal(10, Node(sim, N1).Pongs.Count());
    }

    [Fact]
    public void Isolate_cuts_one_node_from_all_others()
    {
        var sim = Cluster(12, nodes: 3);
        sim.Isolate(N3);
        Burst(sim, N1, N2, 3);
        Burst(sim, N1, N3, 3);
        sim.RunFor(100);
        Assert.Equal(3, Node(sim, N1).Pongs.Count());
        Assert.Empty(Node(sim, N3).Inbox);
    }

    [Fact]
    public void Drop_rate_one_half_loses_about_half()
    {
        SeedRunner.Run(5, seed =>
        {
            const int sent = 2_000;
            var sim = Cluster(seed);
            sim.SetFaults(new FaultSpec { DropRate = 0.5 });
            Burst(sim, N1, N2, sent);
            sim.RunFor(100);
            var received = Node(sim, N2).Pings.Count();
            // Binomial(2000, 0.5): standard deviation ~22.4; five of them keep a false alarm below one in a million.
            Assert.InRange(received, 1_000 - 112, 1_000 + 112);
            Assert.Equal(sent + received, sim.Network.MessagesSent);
            Assert.Equal(sim.Network.MessagesSent - sim.Network.MessagesDelivered, sim.Network.MessagesDropped);
        });
    }

    [Fact]
    public void Delays_shift_delivery_within_the_range()
    {
        SeedRunner.Run(5, seed =>
        {
            var sim = Cluster(seed, options: new SimulatorOptions { LatencyMinMs = 1, LatencyMaxMs = 5 });
            sim.SetFaults(new FaultSpec { DelayMinMs = 20, DelayMaxMs = 40 });
            Node(sim, N1).PingEveryTick = N2;
            sim.RunFor(3_000);
            var latencies = Node(sim, N2).Inbox.Where(r => r.Message is Ping).Select(r => r.AtMs - ((Ping)r.Message).SentAtMs).ToList();
            Assert.True(latencies.Count > 250, $"seed={seed}: only {latencies.Count} pings");
            Assert.All(latencies, l => Assert.InRange(l, 21, 45));
            Assert.True(latencies.Min() < 26 && latencies.Max() > 40, $"seed={seed}: delays not spread: {latencies.Min()}..{latencies.Max()}");
        });
    }

    [Fact]
    public void Duplicates_are_delivered_twice()
    {
        var sim = Cluster(13);
        sim.SetFaults(new FaultSpec { DuplicateRate = 1.0 });
        Burst(sim, N1, N2, 20);
        sim.RunFor(100);
        var seqs = Node(sim, N2).Pings.Select(p => p.Seq).ToList();
        Assert.Equal(40, seqs.Count);
        Assert.All(seqs.GroupBy(s => s), g => Assert.Equal(2, g.Count()));
        Assert.Equal(20, sim.Network.SentOf<Ping>());
        Assert.Equal(40, sim.Network.DeliveredOf<Ping>());
    }

    [Fact]
    public void Without_reorder_a_link_is_fifo_and_with_reorder_it_is_not()
    {
        SeedRunner.Run(5, seed =>
        {
            static bool Inverted(List<int> seqs) => seqs.Zip(seqs.Skip(1)).Any(p => p.First > p.Second);

            var fifo = Cluster(seed, options: new SimulatorOptions { LatencyMinMs = 0, LatencyMaxMs = 20 });
            fifo.SetFaults(new FaultSpec { DelayMinMs = 0, DelayMaxMs = 50 });
            Node(fifo, N1).PingEveryTick = N2;
            fifo.RunFor(2_000);
            var inOrder = Node(fifo, N2).Pings.Select(p => p.Seq).ToList();
            Assert.True(inOrder.Count > 150, $"seed={seed}");
            Assert.False(Inverted(inOrder), $"seed={seed}: FIFO link reordered");

            var reordering = Cluster(seed, options: new SimulatorOptions { LatencyMinMs = 0, LatencyMaxMs = 20 });
            reordering.SetFaults(new FaultSpec { DelayMinMs = 0, DelayMaxMs = 50, Reorder = true });
            Node(reordering, N1).PingEveryTick = N2;
            reordering.RunFor(2_000);
            var shuffled = Node(reordering, N2).Pings.Select(p => p.Seq).ToList();
            Assert.True(Inverted(shuffled), $"seed={seed}: reorder never overtook");
            Assert.Equal(shuffled.Order(), shuffled.Order().Distinct());
        });
    }

    [Fact]
    public void Crash_loses_volatile_state_and_messages_in_flight()
    {
        var sim = Cluster(17, options: new SimulatorOptions { LatencyMinMs = 5, LatencyMaxMs = 5 });
        Burst(sim, N1, N2, 3);
        sim.RunFor(10);
        Assert.Equal(3, Node(sim, N2).Pings.Count());

        Burst(sim, N1, N2, 4);          // in flight until t=15
        sim.RunFor(2);
        sim.Crash(N2);
        Assert.False(sim.IsUp(N2));
        Assert.Null(sim.Node(N2));
        sim.RunFor(5);
        Assert.Equal(4, sim.Network.MessagesLostToCrash);
        Burst(sim, N1, N2, 2);          // sent while down
        sim.Restart(N2);                // restarts before they arrive, but they were addressed to the dead incarnation
        sim.RunFor(50);

        var restarted = Node(sim, N2);
        Assert.Empty(restarted.Pings);
        Assert.Equal(6, sim.Network.MessagesLostToCrash);
        Assert.Equal(2, sim.Incarnation(N2));
        Assert.Equal(3, Node(sim, N1).Pongs.Count());
    }

    [Fact]
    public void Fault_counters_count_what_the_faults_did()
    {
        var sim = Cluster(23, nodes: 3);
        Assert.Equal(SimFaultCounters.Zero, sim.FaultCounters);
        sim.Crash(N2);
        sim.Crash(N2);                  // already down: not another crash
        Burst(sim, N1, N2, 2);          // lost to the crash
        sim.RunFor(50);
        sim.Restart(N2);
        sim.Restart(N3);                // running: crashed, then started
        sim.Partition([1], [2, 3]);
        Burst(sim, N1, N3, 3);          // cut by the partition
        sim.RunFor(50);
        sim.Heal();                     // installs no partition
        sim.SetFaults(new FaultSpec { DropRate = 1 });
        Burst(sim, N2, N3, 4);          // dropped
        sim.RunFor(50);
        sim.SetFaults(new FaultSpec { DuplicateRate = 1, DelayMinMs = 5, DelayMaxMs = 5 });
        Burst(sim, N1, N2, 1);
        sim.RunFor(50);

        var c = sim.FaultCounters;
        Assert.Equal((Crashes: 2, Restarts: 2, PartitionsSet: 1, DroppedByPartition: 3, Dropped: 4, LostToCrash: 2),
            (c.Crashes, c.Restarts, c.PartitionsSet, c.DroppedByPartition, c.Dropped, c.LostToCrash));
        Assert.True(c.Duplicated > 0 && c.Delayed > 0, $"{c}");
        Assert.Equal(c with { Crashes = 4 }, c + (SimFaultCounters.Zero with { Crashes = 2 }));
    }

    [Fact]
    public void Restart_keeps_only_what_was_persisted()
    {
        var sim = Cluster(19);
        Burst(sim, N1, N2, 6);
        sim.RunFor(50);
        var before = Node(sim, N2);
        Assert.Equal(6, before.Pings.Count());
        Assert.Equal(0, before.AnsweredAtCreation);

        sim.Restart(N2);
        sim.RunFor(50);
        var after = Node(sim, N2);
        Assert.NotSame(before, after);
        Assert.Empty(after.Inbox);
        Assert.Equal(6, after.AnsweredAtCreation);
        Assert.Equal(2, sim.Storage(N2).Log<long>(PingNode.StartsLog).Count);

        Burst(sim, N1, N2, 1);
        sim.RunFor(50);
        Assert.Equal(7, sim.Storage(N2).Get(PingNode.AnsweredKey, 0));
    }

    [Fact]
    public void Injected_input_arrives_at_its_time_from_outside()
    {
        var sim = Cluster(23);
        sim.Inject(N1, new PingBurst(N2, 3), atMs: 100);
        sim.RunFor(99);
        Assert.Empty(Node(sim, N1).Inbox);
        sim.RunFor(50);
        var first = Node(sim, N1).Inbox[0];
        Assert.Equal(Simulator<PingMessage>.ExternalId, first.From);
        Assert.Equal(100, first.AtMs);
        Assert.Equal(3, Node(sim, N1).Pongs.Count());
    }

    [Fact]
    public void RunUntil_stops_when_the_condition_holds_or_time_runs_out()
    {
        var sim = Cluster(29, options: new SimulatorOptions { LatencyMinMs = 3, LatencyMaxMs = 3 });
        Burst(sim, N1, N2, 1);
        Assert.True(sim.RunUntil(() => Node(sim, N1).Pongs.Any(), 1_000));
        Assert.Equal(6, sim.NowMs);

        Assert.False(sim.RunUntil(() => Node(sim, N1).Pongs.Count() > 1, 500));
        Assert.Equal(506, sim.NowMs);
    }

    [Fact]
    public void Invariant_violation_reports_seed_time_and_trace()
    {
        var sim = Cluster(31337);
        sim.Invariants.Add("fewer than 3 pings reach node 2", () =>
            sim.Node<PingNode>(N2) is { } n && n.Pings.Count() >= 3 ? $"node 2 got {n.Pings.Count()} pings" : null);
        Node(sim, N1).PingEveryTick = N2;
        var e = Assert.Throws<InvariantViolationException>(() => sim.RunFor(1_000));
        Assert.Contains("seed=31337", e.Message);
        Assert.Contains("DISTSYS_SEED=31337", e.Message);
        Assert.Contains($"t={sim.NowMs}ms", e.Message);
        Assert.Contains("delivered Ping", e.Message);
        Assert.Equal("fewer than 3 pings reach node 2", e.Invariant);
        Assert.Equal(31337, e.Seed);
        Assert.True(sim.NowMs < 1_000);
    }

    [Fact]
    public void Assertion_style_invariants_and_node_exceptions_report_the_seed()
    {
        var sim = Cluster(99);
        sim.Invariants.Add("never past 50ms", () => Assert.True(sim.NowMs <= 50));
        var e = Assert.Throws<InvariantViolationException>(() => sim.RunFor(100));
        Assert.Contains("seed=99", e.Message);

        var failing = Cluster(98);
        failing.Schedule(10, () => throw new InvalidOperationException("boom"));
        var f = Assert.Throws<SimulationException>(() => failing.RunFor(20));
        Assert.Contains("seed=98", f.Message);
        Assert.Contains("boom", f.Message);
    }

    [Fact]
    public void Queued_event_limit_is_enforced()
    {
        var sim = Cluster(37, options: new SimulatorOptions { EventsQueuedMax = 100 });
        var e = Assert.Throws<SimulationException>(() => Burst(sim, N1, N2, 200));
        Assert.Contains("EventsQueuedMax", e.Message);
    }

    [Fact]
    public void Invalid_faults_are_rejected_and_change_nothing()
    {
        var sim = Cluster(41);
        sim.SetFaults(new FaultSpec { DropRate = 0.1 });
        var e = Assert.Throws<ArgumentException>(() => sim.SetFaults(new FaultSpec { DropRate = 2 }));
        Assert.Contains("dropRate", e.Message);
        Assert.Equal(0.1, sim.Faults.DropRate);
    }
}

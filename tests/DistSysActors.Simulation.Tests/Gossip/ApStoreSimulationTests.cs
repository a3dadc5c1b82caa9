using DistSysActors.Core;
using DistSysActors.Core.Gossip;
using DistSysActors.Core.Network;
using DistSysActors.Core.Protocol;
using DistSysActors.Simulation.Protocol;
using Xunit.Abstractions;

namespace DistSysActors.Simulation.Tests.Gossip;

using ApSimNode = ProtocolSimNode<ApStore, AntiEntropyMessage, ProtocolReady<AntiEntropyMessage>>;

/// <summary>
/// The anti-entropy AP store on the simulator, nodes with skewed clocks. Checked after every event: no replica's version of
/// a key ever goes back (so a tombstone is never replaced by the older value it deleted). At the end every replica holds,
/// for every key, the write with the greatest (HLC, writer) version. Replicas are durable: a restarted one rebuilds itself from its journal.
/// </summary>
public sealed class ApStoreSimulationTests(ITestOutputHelper output)
{
    private static readonly ApStoreConfig Config = new() { ExchangeIntervalMs = 200 };

    private sealed class ApCluster
    {
        private readonly Dictionary<(NodeId, string), ApVersion> _seen = new();

        public ApCluster(int n, long seed, FaultSpec? faults = null)
        {
            Sim = new Simulator<AntiEntropyMessage>(new SimulatorOptions { Seed = seed, TickIntervalMs = 50 });
            if (faults is not null) Sim.SetFaults(faults);
            Ids = Enumerable.Range(1, n).Select(i => new NodeId(i)).ToArray();
            var random = Sim.ForkRandom();
            var skew = Ids.ToDictionary(id => id, _ => random.NextInt64(-300, 301));
            var options = new ProtocolSimOptions<ApStore> { ClockMs = (id, now) => 1_000_000 + now + skew[id] };
            Sim.AddNodes(Ids, (id, storage) =>
            {
                // A restarted replica recovers every entry it journaled (its own writes and what it merged), so the
                // invariant below holds across restarts too; it catches up on the rest by anti-entropy.
                var core = new ApStore(id, Ids, Config, Sim.ForkRandom());
                core.Recover(storage.Log<object>(ProtocolSimNode.JournalName).ReadAll().Cast<ApEntry>(), options.ClockMs!(id, Sim.NowMs));
                Stores[id] = core;
                return new ApSimNode(core, options);
            });
            Sim.Invariants.Add("no replica's version of a key goes back", () =>
            {
                foreach (var (id, store) in Stores)
                {
                    if (!Sim.IsUp(id)) continue;
                    foreach (var e in store.Entries)
                    {
                        if (_seen.TryGetValue((id, e.Key), out var before) && e.Version < before)
                            return $"node {id} key {e.Key} went back from {before} to {e.Version}";
                        _seen[(id, e.Key)] = e.Version;
                    }
                }
                return null;
            });
        }

        public Simulator<AntiEntropyMessage> Sim { get; }
        public NodeId[] Ids { get; }
        public SortedDictionary<NodeId, ApStore> Stores { get; } = new();
        public List<ApEntry> Written { get; } = [];

        public void Write(NodeId node, string key, string? value) =>
            Sim.Invoke<ApSimNode>(node, (n, ctx) => n.Invoke(ctx, (core, now) =>
            {
                var result = value is null ? core.Delete(key, now) : core.Put(key, value, now);
                Written.Add(Assert.IsType<ApWriteResult.Written>(result).Entry);
            }));

        /// <summary>Per key, the write every replica must end with.</summary>
        public Dictionary<string, ApEntry> Winners() =>
            Written.GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.MaxBy(e => e.Version)!);

        public bool Converged() => Winners().All(w => Ids.All(id => Sim.IsUp(id) && Stores[id].Get(w.Key) == w.Value));
    }

    [Fact]
    public void A_replica_partitioned_during_writes_on_both_sides_catches_up_by_anti_entropy_after_the_heal()
    {
        var converge = new List<long>();
        SeedRunner.Run(10, seed =>
        {
            var c = new ApCluster(5, seed);
            var random = c.Sim.ForkRandom();
            c.Sim.RunFor(1_000);
            c.Sim.Partition([c.Ids[0], c.Ids[1], c.Ids[2]], [c.Ids[3], c.Ids[4]]);
            for (var i = 0; i < 40; i++)
            {
                c.Write(c.Ids[random.NextInt(0, 5)], $"k{random.NextInt(0, 10)}", $"v{i}");
                c.Sim.RunFor(random.NextInt(1, 100));
            }
            c.Sim.RunFor(2_000);
            // Each side converged within itself, and the sides differ.
            Assert.Contains(c.Winners(), w => c.Stores[c.Ids[0]].Get(w.Key) != c.Stores[c.Ids[4]].Get(w.Key));
            c.Sim.Heal();
            var healMs = c.Sim.NowMs;
            Assert.True(c.Sim.RunUntil(c.Converged, 10_000), $"seed={seed}: not converged 10 s after the heal");
            converge.Add(c.Sim.NowMs - healMs);
            Assert.True(c.Sim.FaultCounters.DroppedByPartition > 0, $"seed={seed}: the partition dropped nothing");
        });
        output.WriteLine($"converged after the heal: mean {converge.Average():F0} ms, max {converge.Max()} ms (exchange interval {Config.ExchangeIntervalMs} ms)");
    }

    [Fact]
    public void Deletes_never_come_back_and_all_replicas_converge_under_loss_duplication_reordering_partitions_and_restarts() => SeedRunner.Run(10, seed =>
    {
        var c = new ApCluster(5, seed, new FaultSpec { DropRate = 0.2, DuplicateRate = 0.1, Reorder = true, DelayMinMs = 0, DelayMaxMs = 40 });
        var random = c.Sim.ForkRandom();
        for (var i = 0; i < 200; i++)
        {
            var node = c.Ids[random.NextInt(0, 5)];
            if (c.Sim.IsUp(node)) c.Write(node, $"k{random.NextInt(0, 8)}", random.Chance(0.35) ? null : $"v{i}");
            if (i == 50) c.Sim.Partition([c.Ids[0], c.Ids[1]], [c.Ids[2], c.Ids[3], c.Ids[4]]);
            if (i == 100) c.Sim.Heal();
            if (i == 120) c.Sim.Crash(c.Ids[2]);
            if (i == 150) c.Sim.Restart(c.Ids[2]);
            c.Sim.RunFor(random.NextInt(1, 60));
        }
        Assert.True(c.Sim.RunUntil(c.Converged, 20_000), $"seed={seed}: not converged 20 s after the last write");
        // At least one delete is the last word on its key, whatever the random writes left: node 1, having seen every
        // version, stamps a later one; it must reach every replica through the same faults.
        c.Write(c.Ids[0], "k0", null);
        Assert.True(c.Sim.RunUntil(c.Converged, 20_000), $"seed={seed}: not converged 20 s after the last delete");
        var deleted = c.Winners().Values.Where(w => w.IsTombstone).ToList();
        Assert.True(deleted.Count > 0, $"seed={seed}: no key ended deleted");
        Assert.All(c.Ids, id => Assert.All(deleted, d => Assert.True(c.Stores[id].Get(d.Key)!.IsTombstone)));
        var faults = c.Sim.FaultCounters;
        Assert.True(faults.Dropped > 0 && faults.Duplicated > 0 && faults.DroppedByPartition > 0 && faults.Restarts == 1, $"seed={seed}: {faults}");
    });

    [Fact]
    public void A_crashed_replica_keeps_a_write_it_accepted_alone_and_passes_it_on_after_the_heal() => SeedRunner.Run(5, seed =>
    {
        var c = new ApCluster(3, seed);
        c.Sim.RunFor(500);
        c.Sim.Partition([c.Ids[0], c.Ids[1]], [c.Ids[2]]);
        c.Write(c.Ids[2], "alone", "kept");
        c.Write(c.Ids[2], "gone", null);
        c.Sim.RunFor(300);
        c.Sim.Crash(c.Ids[2]);
        c.Sim.Restart(c.Ids[2]);
        // Back from its journal, before any exchange: nobody else ever had these entries.
        Assert.Equal("kept", c.Stores[c.Ids[2]].Get("alone")?.Value);
        Assert.True(c.Stores[c.Ids[2]].Get("gone")!.IsTombstone, $"seed={seed}: the tombstone was lost");
        Assert.Null(c.Stores[c.Ids[0]].Get("alone"));
        // A later write on the restarted replica is ordered after what it recovered (its clock merged the journal).
        c.Write(c.Ids[2], "alone", "later");
        Assert.True(c.Written[^1].Version > c.Written[0].Version, $"seed={seed}: {c.Written[^1].Version} not after {c.Written[0].Version}");
        c.Sim.Heal();
        Assert.True(c.Sim.RunUntil(c.Converged, 10_000), $"seed={seed}: not converged 10 s after the heal");
        Assert.Equal(1, c.Sim.FaultCounters.Restarts);
    });
}

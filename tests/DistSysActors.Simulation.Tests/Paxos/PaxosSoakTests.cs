using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.Raft;
using DistSysActors.Simulation.Paxos;

namespace DistSysActors.Simulation.Tests.Paxos;

/// <summary>
/// The soak: Basic Paxos registers and the key-value store on Multi-Paxos under every fault at once, one seed each. CI
/// runs a few seeds; a long run sets <c>DISTSYS_SEEDS</c> (e.g. <c>DISTSYS_SEEDS=10000 dotnet test --filter PaxosSoak</c>).
/// </summary>
public sealed class PaxosSoakTests
{
    [Fact]
    public void PaxosSoak_registers_under_loss_duplication_reordering_partitions_and_crashes() => SeedRunner.Run(5, seed =>
    {
        var c = new RegisterSimCluster(new SimulatorOptions { Seed = seed, TickIntervalMs = 5, TornWriteRate = 0.3 }, 5);
        var random = c.Sim.ForkRandom();
        c.Sim.SetFaults(new FaultSpec { DropRate = 0.1, DuplicateRate = 0.05, DelayMinMs = 0, DelayMaxMs = 20, Reorder = true });
        var requests = new List<long>();
        for (var step = 0; step < 20; step++)
        {
            var at = c.Ids[random.NextInt(0, c.Ids.Length)];
            if (c.Sim.IsUp(at)) requests.Add(random.Chance(0.2) ? c.Read(at, $"r{random.NextInt(0, 4)}") : c.Propose(at, $"r{random.NextInt(0, 4)}", $"v{step}"));
            c.Sim.RunFor(random.NextInt(1, 40));
            var target = c.Ids[random.NextInt(0, c.Ids.Length)];
            switch (random.NextInt(0, 5))
            {
                case 0: c.Sim.Isolate(target); break;
                case 1: c.Sim.Heal(); break;
                case 2: if (c.Ids.Count(c.Sim.IsUp) > 3) c.Sim.Crash(target); break;
                case 3: if (!c.Sim.IsUp(target)) c.Sim.Restart(target); break;
            }
        }
        c.Sim.Heal();
        c.Sim.ClearFaults();
        foreach (var id in c.Ids.Where(id => !c.Sim.IsUp(id))) c.Sim.Restart(id);
        c.Sim.RunFor(5_000);
        foreach (var id in requests.Where(c.Outcomes.ContainsKey))
            if (c.Outcomes[id].Value is { } value) Assert.Equal(c.Checker.ChosenValue(c.Outcomes[id].Name), value);
    });

    [Fact]
    public void PaxosSoak_kv_linearizable_under_every_fault() => SeedRunner.Run(3, seed =>
        MultiPaxosSimulationTests.RunKvAndCheck(seed, seed % 2 == 0 ? ReadMode.Lease : ReadMode.ReadIndex, crashes: true, iterations: 8));
}

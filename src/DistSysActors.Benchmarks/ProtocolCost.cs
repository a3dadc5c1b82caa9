using System.Globalization;
using DistSysActors.Core;
using DistSysActors.Core.KeyValue;
using DistSysActors.Simulation;
using DistSysActors.Simulation.Paxos;
using DistSysActors.Simulation.Raft;

namespace DistSysActors.Benchmarks;

/// <summary>
/// `protocol-cost`: what one replicated command costs Raft and Multi-Paxos in messages and journal writes, counted
/// exactly in the simulator (seeded, virtual time, no faults, the simulated disk's 1-4 ms writes). A stable leader is
/// elected first; then commands go to it in rounds of <c>concurrency</c> at once, each round waiting for all its
/// answers. Messages are counted on the network, split into the replication path (Raft AppendEntries and responses;
/// Paxos Accept and Accepted) and everything (heartbeats included); disk writes are the nodes' durable writes (each one
/// fsync'd batch of journal records).
/// </summary>
public static class ProtocolCost
{
    public static int Run(string[] args)
    {
        var commands = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 400;
        Console.WriteLine($"protocol-cost: {commands} commands after a stable leader is elected, seed 1, no faults");
        Console.WriteLine("| engine | nodes | concurrency | replication msgs/cmd | all msgs/cmd | disk writes/cmd (all nodes) | virtual ms/round |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var nodes in new[] { 3, 5 })
        foreach (var concurrency in new[] { 1, 16 })
        {
            Print("Raft", nodes, concurrency, MeasureRaft(nodes, concurrency, commands));
            Print("Multi-Paxos", nodes, concurrency, MeasurePaxos(nodes, concurrency, commands));
        }
        return 0;
    }

    private sealed record Cost(double ReplicationPerCommand, double AllPerCommand, double WritesPerCommand, double MsPerRound);

    private static void Print(string engine, int nodes, int concurrency, Cost c) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {engine} | {nodes} | {concurrency} | {c.ReplicationPerCommand:0.00} | {c.AllPerCommand:0.00} | {c.WritesPerCommand:0.00} | {c.MsPerRound:0.0} |"));

    private static Cost MeasureRaft(int nodes, int concurrency, int commands)
    {
        var c = new RaftSimCluster(new SimulatorOptions { Seed = 1 }, nodes);
        var leader = c.RunUntilLeader(10_000) ?? throw new InvalidOperationException("no Raft leader");
        c.Sim.RunFor(500);
        var writes = CountWrites(c.Sim);
        return Measure(c.Sim.Network, () => writes.Count, c.Sim.NowMs, () => c.Sim.NowMs, concurrency, commands,
            ["AppendEntries", "AppendEntriesResponse"], c, (id, command) => c.Sim.Inject(leader, new RaftClientCommand(id, command)),
            condition => c.Sim.RunUntil(condition, 10_000));
    }

    private static Cost MeasurePaxos(int nodes, int concurrency, int commands)
    {
        var c = new MultiPaxosSimCluster(new SimulatorOptions { Seed = 1 }, nodes);
        var leader = c.RunUntilLeader(10_000) ?? throw new InvalidOperationException("no Multi-Paxos leader");
        c.Sim.RunFor(500);
        var writes = CountWrites(c.Sim);
        return Measure(c.Sim.Network, () => writes.Count, c.Sim.NowMs, () => c.Sim.NowMs, concurrency, commands,
            ["Accept", "Accepted"], c, (id, command) => c.Submit(leader, new RaftClientCommand(id, command)),
            condition => c.Sim.RunUntil(condition, 10_000));
    }

    private sealed class Counter
    {
        public long Count;
    }

    private static Counter CountWrites<TMessage>(Simulator<TMessage> sim) where TMessage : notnull
    {
        var counter = new Counter();
        var previous = sim.TraceListener;
        sim.TraceListener = e =>
        {
            previous?.Invoke(e);
            if (e.Kind == SimTraceKind.WriteDone) counter.Count++;
        };
        return counter;
    }

    private static Cost Measure(SimNetwork network, Func<long> writes, long startMs, Func<long> nowMs, int concurrency, int commands,
        string[] replication, IKvSimCluster cluster, Action<long, KvCommand> submit, Func<Func<bool>, bool> runUntil)
    {
        var answered = new HashSet<long>();
        cluster.ReplyListener = reply => { lock (answered) answered.Add(reply.RequestId); };
        long Replication() => replication.Sum(t => network.SentByType.GetValueOrDefault(t));
        var (replicationBefore, allBefore, writesBefore) = (Replication(), network.MessagesSent, writes());
        var rounds = 0;
        var sent = 0;
        var sequence = 0L;
        while (sent < commands)
        {
            var ids = new List<long>();
            for (var i = 0; i < concurrency && sent < commands; i++, sent++)
            {
                var id = cluster.NextRequestId();
                ids.Add(id);
                // An unregistered session: the command is replicated and applied (answered SessionExpired) all the same.
                submit(id, new KvPut(1, ++sequence, $"k{sent % 100}", "v"));
            }
            if (!runUntil(() => ids.All(answered.Contains))) throw new InvalidOperationException($"round {rounds} not answered");
            rounds++;
        }
        var n = (double)commands;
        return new Cost((Replication() - replicationBefore) / n, (network.MessagesSent - allBefore) / n, (writes() - writesBefore) / n,
            (nowMs() - startMs) / (double)rounds);
    }
}

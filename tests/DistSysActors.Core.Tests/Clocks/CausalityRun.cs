using DistSysActors.Core;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Core.Tests.Clocks;

/// <summary>
/// A seeded random execution of local, send and receive events on a few nodes, recording each event's
/// Lamport and vector timestamps and, as ground truth, happens-before computed from the event graph.
/// </summary>
internal sealed class CausalityRun
{
    public sealed record Event(int Index, NodeId Node, string Kind, LamportTimestamp Lamport, VectorClock Vector);

    public List<Event> Events { get; } = [];

    /// <summary>HappensBefore[a][b]: event a happened before event b (Lamport's "→").</summary>
    public bool[][] HappensBefore { get; }

    public CausalityRun(long seed, int nodeCount, int eventCount)
    {
        var random = new DeterministicRandom(seed);
        var nodes = Enumerable.Range(1, nodeCount).Select(i => new NodeId(i)).ToArray();
        var lamport = nodes.ToDictionary(n => n, LamportClock.Start);
        var vector = nodes.ToDictionary(n => n, _ => VectorClock.Empty);
        var lastEventOf = nodes.ToDictionary(n => n, _ => -1);
        var inFlight = new List<(NodeId To, int SendEvent, LamportTimestamp Lamport, VectorClock Vector)>();
        var direct = new List<int>[eventCount];

        for (var i = 0; i < eventCount; i++)
        {
            var node = nodes[random.NextInt(0, nodeCount)];
            direct[i] = [];
            if (lastEventOf[node] >= 0) direct[i].Add(lastEventOf[node]);
            var deliverable = inFlight.Select((m, k) => (m, k)).Where(x => x.m.To == node).ToList();
            var choice = random.NextInt(0, 3);
            string kind;
            if (choice == 2 && deliverable.Count > 0)
            {
                var (m, k) = deliverable[random.NextInt(0, deliverable.Count)];
                inFlight.RemoveAt(k);
                lamport[node] = lamport[node].Receive(m.Lamport);
                vector[node] = vector[node].Receive(node, m.Vector);
                direct[i].Add(m.SendEvent);
                kind = "receive";
            }
            else
            {
                lamport[node] = lamport[node].Tick();
                vector[node] = vector[node].Increment(node);
                kind = "local";
                if (choice == 1)
                {
                    var to = nodes.Where(n => n != node).ElementAt(random.NextInt(0, nodeCount - 1));
                    inFlight.Add((to, i, lamport[node].Timestamp, vector[node]));
                    kind = "send";
                }
            }
            lastEventOf[node] = i;
            Events.Add(new Event(i, node, kind, lamport[node].Timestamp, vector[node]));
        }

        // Events are appended in a topological order (causes first), so one forward pass closes the relation.
        HappensBefore = new bool[eventCount][];
        for (var b = 0; b < eventCount; b++)
        {
            HappensBefore[b] = new bool[eventCount];
        }
        for (var b = 0; b < eventCount; b++)
        {
            foreach (var a in direct[b])
            {
                HappensBefore[a][b] = true;
                for (var x = 0; x < a; x++)
                    if (HappensBefore[x][a]) HappensBefore[x][b] = true;
            }
        }
    }
}

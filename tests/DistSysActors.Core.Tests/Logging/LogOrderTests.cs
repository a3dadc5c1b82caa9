using System.Collections.Immutable;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;

namespace DistSysActors.Core.Tests.Logging;

/// <summary>
/// The merged view orders by (HLC, node): every receive after its send even when the nodes' wall clocks are skewed by
/// ±500 ms, while ordering by wall clock does not (HLC paper theorem 1; Lamport 1978's clock condition).
/// </summary>
public class LogOrderTests
{
    /// <summary>Three nodes with wall clocks -500, 0 and +500 ms off exchange seeded random messages; every event is logged.</summary>
    private static List<LogRecord> SkewedRun(long seed, int events = 400)
    {
        var random = new DeterministicRandom(seed);
        long[] skewMs = [-500, 0, 500];
        var nodes = new[] { new NodeId(1), new NodeId(2), new NodeId(3) };
        var hlc = nodes.Select(_ => new HybridLogicalClock(maxOffsetMs: 2_000)).ToArray();
        var lamport = nodes.Select(LamportClock.Start).ToArray();
        var inFlight = new List<(int To, HlcTimestamp Hlc, long Lamport, string Id, long ArriveAtMs)>();
        var records = new List<LogRecord>();
        long nowMs = 1_764_000_000_000;
        for (var i = 0; i < events; i++)
        {
            nowMs += random.NextInt(0, 3);
            var n = random.NextInt(0, 3);
            var wall = nowMs + skewMs[n];
            var arrived = inFlight.FindIndex(m => m.To == n && m.ArriveAtMs <= nowMs);
            if (arrived >= 0 && random.Chance(0.6))
            {
                var m = inFlight[arrived];
                inFlight.RemoveAt(arrived);
                var stamp = Assert.IsType<HlcReceiveResult.Accepted>(hlc[n].Receive(m.Hlc, wall)).Timestamp;
                lamport[n] = lamport[n].Receive(new LamportTimestamp(m.Lamport, default));
                records.Add(Record(nodes[n], i, wall, stamp, lamport[n].Counter, LogAttributes.ReceiveEvent, m.Id));
                continue;
            }
            var sent = hlc[n].Now(wall);
            lamport[n] = lamport[n].Tick();
            var to = (n + 1 + random.NextInt(0, 2)) % 3;
            var id = $"{nodes[n]}@{sent}";
            inFlight.Add((to, sent, lamport[n].Counter, id, nowMs + random.NextInt(0, 5)));
            records.Add(Record(nodes[n], i, wall, sent, lamport[n].Counter, LogAttributes.SendEvent, id));
        }
        return records;
    }

    private static LogRecord Record(NodeId node, int i, long wall, HlcTimestamp hlc, long lamport, string kind, string messageId) =>
        new($"{node}-{i}", node, wall, wall, hlc, lamport, Severity.Debug, kind,
            Attributes: ImmutableSortedDictionary<string, string>.Empty.Add(LogAttributes.Event, kind).Add(LogAttributes.MessageId, messageId));

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    public void SkewedClocks_HlcAndLamportOrders_PutEveryReceiveAfterItsSend_WallOrderDoesNot(long seed)
    {
        var records = SkewedRun(seed);
        Assert.Contains(records, r => r.Attribute(LogAttributes.Event) == LogAttributes.ReceiveEvent);
        // Per-node lists in any order, as the nodes' stores hand them over.
        var perNode = records.GroupBy(r => r.Node).Select(g => g.Reverse().ToList()).ToList();
        Assert.Empty(LogOrder.ReceivesBeforeSends(LogOrder.Merge(perNode, LogOrderKind.Hlc)));
        Assert.Empty(LogOrder.ReceivesBeforeSends(LogOrder.Merge(perNode, LogOrderKind.Lamport)));
        Assert.NotEmpty(LogOrder.ReceivesBeforeSends(LogOrder.Merge(perNode, LogOrderKind.Wall)));
    }

    [Fact]
    public void Merge_IsTotalAndTheSameWhateverTheInputOrder_AndDropsDuplicates()
    {
        var records = SkewedRun(9);
        var forward = LogOrder.Merge([records]);
        var backward = LogOrder.Merge([Enumerable.Reverse(records).ToList(), records.Take(50).ToList()]);
        Assert.Equal(forward.Select(r => r.Id), backward.Select(r => r.Id));
        Assert.Equal(records.Count, forward.Count);
    }

    [Fact]
    public void Hlc_TiesBreakByNode()
    {
        var hlc = new HlcTimestamp(100, 0);
        var a = new LogRecord("b", new NodeId(2), 0, 0, hlc, 1, Severity.Info, "x");
        var b = new LogRecord("a", new NodeId(1), 0, 0, hlc, 1, Severity.Info, "y");
        Assert.Equal(["a", "b"], LogOrder.Merge([[a, b]]).Select(r => r.Id));
    }
}

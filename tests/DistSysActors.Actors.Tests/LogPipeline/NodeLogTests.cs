using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.Tests.LogPipeline;

/// <summary>The node's log pipeline entrance: causal stamps, the current trace, the queue's bound and its dropped count.</summary>
public sealed class NodeLogTests
{
    private static NodeLog Log(string overrides = "", NodeClock? clock = null) =>
        new(new NodeId(2), clock, LogPipelineTestSettings.Create(overrides), startMs: 0x1234);

    [Fact]
    public void Lamport_ticks_on_send_and_takes_max_plus_one_on_receive()
    {
        var log = Log();
        Assert.Equal(1, log.LamportSend());
        Assert.Equal(2, log.LamportSend());
        Assert.Equal(11, log.LamportReceive(10));
        Assert.Equal(12, log.LamportReceive(3));
    }

    [Fact]
    public void A_receives_vector_clock_dominates_its_sends_and_records_carry_the_nodes_vector()
    {
        static VectorClock V(params (int Node, long Counter)[] entries) => VectorClock.From(entries.Select(e => new VectorClockEntry(new NodeId(e.Node), e.Counter)));
        var sender = new NodeLog(new NodeId(1), null, LogPipelineTestSettings.Create(), startMs: 1, clusterNodes: 3);
        var receiver = new NodeLog(new NodeId(3), null, LogPipelineTestSettings.Create(), startMs: 1, clusterNodes: 3);
        receiver.Write(Severity.Info, "a local event first");
        sender.Write(Severity.Info, "before the send");
        var (lamport, sent) = sender.Send();
        var (_, received) = receiver.Receive(lamport, sent);
        receiver.Write(Severity.Info, "after the receive");
        Assert.Equal(V((1, 2)), sent);
        Assert.Equal(V((1, 2), (3, 2)), received);
        Assert.Equal(VectorOrder.Before, sent!.Compare(received!));
        var records = receiver.Take(10);
        Assert.Equal([V((3, 1)), V((1, 2), (3, 3))], records.Select(r => r.Vector));
        // The receiver's event before the receive and the send are concurrent; the one after it follows the send.
        Assert.Equal(VectorOrder.Concurrent, sent.Compare(records[0].Vector!));
        Assert.Equal(VectorOrder.Before, sent.Compare(records[1].Vector!));
    }

    [Fact]
    public void Above_the_documented_cluster_size_records_carry_no_vector_clock()
    {
        var log = new NodeLog(new NodeId(1), null, LogPipelineTestSettings.Create(), startMs: 1, clusterNodes: LogRecord.VectorEntriesMax + 1);
        log.Write(Severity.Info, "large cluster");
        Assert.Null(log.Take(1).Single().Vector);
        Assert.Null(log.Send().Vector);
        // At the bound, a peer beyond it (more nodes than announced) switches vectors off rather than growing them.
        var small = new NodeLog(new NodeId(1), null, LogPipelineTestSettings.Create(), startMs: 1, clusterNodes: LogRecord.VectorEntriesMax);
        var wide = VectorClock.From(Enumerable.Range(2, LogRecord.VectorEntriesMax).Select(n => new VectorClockEntry(new NodeId(n), 1)));
        Assert.Null(small.Receive(1, wide).Vector);
    }

    [Fact]
    public void A_record_carries_the_nodes_stamps_the_skewed_wall_clock_and_the_current_trace()
    {
        var host = 1_700_000_000_000L;
        var clock = new NodeClock(new InjectedSkew(-500, 0, host), 500, () => host);
        var log = Log(clock: clock);
        var trace = TraceContext.TryParse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        using (TraceScope.Enter(trace)) log.Step("raft", "applied entry 3", ("index", "3"));
        log.Write(Severity.Warn, "untraced");
        var records = log.Take(10);
        Assert.Equal(2, records.Count);
        var step = records[0];
        Assert.Equal(trace!.TraceId, step.TraceId);
        Assert.Equal("raft", step.Attribute(LogAttributes.Protocol));
        Assert.Equal(host - 500, step.TimestampMs);
        Assert.Equal(clock.Hlc with { Logical = 0 }, step.Hlc);
        Assert.Equal(1, step.Lamport);
        Assert.True(records[1].Hlc > step.Hlc);
        Assert.Equal(2, records[1].Lamport);
        Assert.Null(records[1].TraceId);
        Assert.NotEqual(step.Id, records[1].Id);
        Assert.StartsWith("2.1234.", step.Id);
    }

    [Fact]
    public void A_full_queue_drops_and_counts_instead_of_blocking()
    {
        var log = Log("distsys.logging.queue-records-max = 3");
        for (var i = 0; i < 5; i++) log.Write(Severity.Info, $"r{i}");
        Assert.Equal(3, log.Buffered);
        Assert.Equal(2, log.Dropped);
        Assert.Equal(["r0", "r1", "r2"], log.Take(10).Select(r => r.Body));
        Assert.Equal(0, log.Buffered);
        log.Write(Severity.Info, "after");
        Assert.Single(log.Take(10));
    }

    [Fact]
    public void Below_the_minimum_severity_or_switched_off_nothing_is_recorded()
    {
        var log = Log("distsys.logging.min-severity = WARN");
        log.Write(Severity.Info, "quiet");
        Assert.Empty(log.Take(10));
        var off = Log("distsys.logging.enabled = off");
        off.Write(Severity.Error, "quiet");
        Assert.Empty(off.Take(10));
        Assert.Equal(1, off.LamportSend());
    }

    [Fact]
    public void Settings_fail_fast_naming_the_key()
    {
        var e = Assert.Throws<Akka.Configuration.ConfigurationException>(() => LogPipelineTestSettings.Create("distsys.logging.min-severity = LOUD"));
        Assert.Contains("distsys.logging.min-severity", e.Message);
        e = Assert.Throws<Akka.Configuration.ConfigurationException>(() => LogPipelineTestSettings.Create("distsys.logging.otlp-endpoint = \"not a uri\""));
        Assert.Contains("distsys.logging.otlp-endpoint", e.Message);
    }
}

using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Tests.Clocks;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;
using Xunit.Abstractions;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Tests.LogPipeline;

/// <summary>
/// Trace context and causal stamps crossing real Akka.Remote between two network components whose clocks are 500 ms
/// apart: the receiver logs the receive after the send by HLC and Lamport although its wall clock says otherwise.
/// </summary>
public sealed class NetworkTraceSpec : TestKit
{
    // Local deliveries are not copied, as on a real node: the trace travels beside the delivered message object.
    private static readonly Config Remote = ConfigurationFactory.ParseString("akka.actor.serialize-messages = off").WithFallback(LoopbackRemoting.Config());
    private const long HostStartMs = 1_700_000_000_000;
    private static readonly NodeId N1 = new(1), N2 = new(2);
    private readonly ActorSystem _other;
    private readonly ManualHostClock _host = new(HostStartMs);

    public NetworkTraceSpec(ITestOutputHelper output) : base(Remote, "distsys", output) => _other = ActorSystem.Create("distsys", Remote);

    protected override void AfterAll()
    {
        _other.Terminate().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }

    [Fact]
    public void A_traced_send_carries_its_trace_and_stamps_and_both_ends_log_it_in_causal_order()
    {
        var peers = LoopbackRemoting.Peers(Sys, _other);
        var settings = NetworkSettings.Create(Remote);
        var clock1 = new NodeClock(new InjectedSkew(+500, 0, HostStartMs), 2_000, _host.NowMs);
        var clock2 = new NodeClock(new InjectedSkew(-500, 0, HostStartMs), 2_000, _host.NowMs);
        var log1 = new NodeLog(N1, clock1, LogPipelineTestSettings.Create(), 1, clusterNodes: 2);
        var log2 = new NodeLog(N2, clock2, LogPipelineTestSettings.Create(), 2, clusterNodes: 2);
        NodeLog.Install(Sys, log1);
        NodeLog.Install(_other, log2);
        var net1 = Sys.ActorOf(NetworkActor.Props(N1, settings, peers, clock: clock1), NetworkActor.Name);
        var net2 = _other.ActorOf(NetworkActor.Props(N2, settings, peers, clock: clock2), NetworkActor.Name);
        var inbox = _other.ActorOf(Props.Create(() => new TraceEcho(TestActor)));
        net2.Tell(new Register("test", inbox));

        var trace = TraceContext.TryParse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!;
        log1.LamportReceive(41); // node 1 has seen more events than node 2
        net1.Tell(new Send(N2, "test", "hello") { Trace = trace });
        // The receiving actor sees the message under the trace it was sent with.
        ExpectMsg(("hello", trace.TraceId), TimeSpan.FromSeconds(10));
        net1.Tell(new Send(N2, "test", "untraced"));
        ExpectMsg(("untraced", (string?)null), TimeSpan.FromSeconds(10));

        var send = Assert.Single(log1.Take(10));
        var receive = Assert.Single(log2.Take(10));
        Assert.Equal(LogAttributes.SendEvent, send.Attribute(LogAttributes.Event));
        Assert.Equal(LogAttributes.ReceiveEvent, receive.Attribute(LogAttributes.Event));
        Assert.Equal(send.Attribute(LogAttributes.MessageId), receive.Attribute(LogAttributes.MessageId));
        Assert.Equal(trace.TraceId, send.TraceId);
        Assert.Equal(trace.TraceId, receive.TraceId);
        Assert.Equal(43, send.Lamport);
        Assert.Equal(44, receive.Lamport);
        Assert.True(receive.Hlc > send.Hlc, $"{receive.Hlc} !> {send.Hlc}");
        // The envelope carried the sender's vector clock: the receive's dominates it.
        Assert.Equal(VectorOrder.Before, send.Vector!.Compare(receive.Vector!));
        // Wall clocks 1 s apart: by wall time the receive would come first.
        Assert.True(receive.TimestampMs < send.TimestampMs);
        Assert.Empty(LogOrder.ReceivesBeforeSends(LogOrder.Merge([[send], [receive]], LogOrderKind.Hlc)));
        Assert.NotEmpty(LogOrder.ReceivesBeforeSends(LogOrder.Merge([[send], [receive]], LogOrderKind.Wall)));
    }

    /// <summary>Answers each message with the trace id it was delivered under.</summary>
    private sealed class TraceEcho : ReceiveActor
    {
        public TraceEcho(IActorRef reply) => ReceiveAny(m => reply.Tell(((string)m, TraceScope.Of(m)?.TraceId)));
    }
}

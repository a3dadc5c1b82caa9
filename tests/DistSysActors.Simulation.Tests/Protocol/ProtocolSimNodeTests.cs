using DistSysActors.Core;
using DistSysActors.Core.FailureDetection;
using DistSysActors.Core.Network;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.ReliableDelivery;
using DistSysActors.Simulation.Protocol;

namespace DistSysActors.Simulation.Tests.Protocol;

public class ProtocolSimNodeTests
{
    private static readonly NodeId Sender = new(1), Receiver = new(2);

    private sealed class DeliveryNode(IProtocolCore<DeliveryMessage, ProtocolReady<DeliveryMessage>> core, ProtocolSimOptions<IProtocolCore<DeliveryMessage, ProtocolReady<DeliveryMessage>>> options)
        : ISimNode<DeliveryMessage>
    {
        private readonly ProtocolSimNode<IProtocolCore<DeliveryMessage, ProtocolReady<DeliveryMessage>>, DeliveryMessage, ProtocolReady<DeliveryMessage>> _node = new(core, options);
        public IProtocolCore<DeliveryMessage, ProtocolReady<DeliveryMessage>> Core => _node.Core;
        public void Start(ISimContext<DeliveryMessage> ctx) => _node.Start(ctx);
        public void Receive(NodeId from, DeliveryMessage msg, ISimContext<DeliveryMessage> ctx) => _node.Receive(from, msg, ctx);
        public void Tick(ISimContext<DeliveryMessage> ctx) => _node.Tick(ctx);
        public IReadOnlyList<string> CheckInvariants() => _node.CheckInvariants();
        public void Offer(ISimContext<DeliveryMessage> ctx, long requestId, string key) =>
            _node.Invoke(ctx, (core, now) => ((Outbox)core).Accept(requestId, Receiver, key, key, now));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    public void Reliable_delivery_cores_deliver_exactly_once_across_crashes_with_their_journal_in_sim_storage(long seed)
    {
        var sim = new Simulator<DeliveryMessage>(new SimulatorOptions { Seed = seed, TickIntervalMs = 20 });
        sim.SetFaults(new FaultSpec { DropRate = 0.3, DuplicateRate = 0.3, DelayMinMs = 1, DelayMaxMs = 20, Reorder = true });
        var applied = new List<string>();
        var limits = OutboxLimits.Default with { RedeliverIntervalMs = 50 };
        var options = new ProtocolSimOptions<IProtocolCore<DeliveryMessage, ProtocolReady<DeliveryMessage>>>
        {
            OnApply = (_, entry) => applied.Add(((DeliveryProcessed)entry).Key),
        };
        // Each incarnation rebuilds its core from the journal the previous ones wrote.
        sim.AddNode(Sender, (id, storage) =>
        {
            var outbox = new Outbox(id, limits);
            foreach (var e in storage.Log<object>(ProtocolSimNode.JournalName).ReadAll()) outbox.Apply((OutboxEvent)e);
            return new DeliveryNode(outbox, options);
        });
        sim.AddNode(Receiver, (id, storage) =>
        {
            var receiver = new DeliveryReceiver(id, new DedupTable(windowMax: 100, sendersMax: 4));
            foreach (var e in storage.Log<object>(ProtocolSimNode.JournalName).ReadAll()) receiver.Replay((DeliveryProcessed)e);
            return new DeliveryNode(receiver, options);
        });
        for (var i = 0; i < 50; i++)
        {
            var key = $"k{i}";
            var requestId = i;
            sim.Schedule(i * 10L, () => sim.Invoke<DeliveryNode>(Sender, (node, ctx) => node.Offer(ctx, requestId, key)));
        }
        sim.Schedule(200, () => sim.Restart(Sender));
        sim.Schedule(300, () => sim.Restart(Receiver));
        Assert.True(sim.RunUntil(() => sim.NowMs > 500 && sim.Node<DeliveryNode>(Sender) is { Core: Outbox { PendingCount: 0 } } && applied.Distinct().Count() == sim.Storage(Sender).Log<object>(ProtocolSimNode.JournalName).ReadAll().OfType<DeliveryAccepted>().Count(), 60_000));
        Assert.Equal(applied.Distinct().Count(), applied.Count);
        Assert.Equal(sim.Storage(Receiver).Log<object>(ProtocolSimNode.JournalName).Count, applied.Count);
    }

    [Fact]
    public void A_core_s_own_invariant_is_checked_after_every_event()
    {
        var sim = new Simulator<HeartbeatMessage>(new SimulatorOptions { Seed = 1 });
        var ids = new[] { new NodeId(1), new NodeId(2) };
        sim.AddNodes(ids, (id, _) => new ProtocolSimNode<BrokenMonitor, HeartbeatMessage, HeartbeatReady>(new BrokenMonitor(new HeartbeatMonitor(id, ids, new HeartbeatSettings(), 0))));
        var e = Assert.Throws<InvariantViolationException>(() => sim.RunFor(1_000));
        Assert.Contains("broken on purpose", e.Message);
    }

    private sealed class BrokenMonitor(HeartbeatMonitor monitor) : IProtocolCore<HeartbeatMessage, HeartbeatReady>
    {
        private int _ticks;
        public void Step(HeartbeatMessage message, long nowMs) => monitor.Step(message, nowMs);
        public void Tick(long nowMs) { _ticks++; monitor.Tick(nowMs); }
        public bool HasReady => monitor.HasReady;
        public HeartbeatReady TakeReady() => monitor.TakeReady();
        public void Advance(HeartbeatReady ready) => monitor.Advance(ready);
        public IReadOnlyList<string> CheckInvariants() => _ticks > 3 ? ["broken on purpose"] : monitor.CheckInvariants();
    }
}

using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.ReliableDelivery;
using DistSysActors.Core;
using DistSysActors.Core.ReliableDelivery;
using static DistSysActors.Actors.ReliableDelivery.DeliveryProtocol;

namespace DistSysActors.Actors.Tests.ReliableDelivery;

/// <summary>Every message, journal event and snapshot of the delivery pair survives the serializer Akka binds to it (binary for what crosses nodes or is persisted, JSON for local messages).</summary>
public sealed class DeliveryWireFormatSpec() : TestKit(DistSysConfig.TestOverlay.WithFallback(DistSysConfig.Reference))
{
    public static TheoryData<object> Values() => new()
    {
        new DeliveryEnvelope(new NodeId(1), 7, "order-7", new Increment("order-7"), 3),
        new DeliveryAck(new NodeId(2), 7),
        new DeliveryAccepted(new NodeId(2), 7, "order-7", new Increment("order-7")),
        new DeliveryConfirmed(new NodeId(2), 7),
        new MessageProcessed(new NodeId(1), 7, "order-7", new Increment("order-7")),
        new Deliver(new NodeId(2), "k", new Increment("k")),
        new Accepted("k", new NodeId(2), 1),
        new AlreadyAccepted("k", true),
        new Refused("k", "outbox full"),
        new Confirmed("demo", new NodeId(2), 1, "k"),
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void Round_trips_to_an_equal_value(object value) => Assert.Equal(value, RoundTrip(value));

    [Fact]
    public void Snapshots_round_trip_with_their_contents()
    {
        var outbox = new Outbox(new NodeId(1), OutboxLimits.Default);
        outbox.Apply(new DeliveryAccepted(new NodeId(2), 1, "a", new Increment("a")));
        outbox.Apply(new DeliveryAccepted(new NodeId(2), 2, "b", new Increment("b")));
        outbox.Apply(new DeliveryConfirmed(new NodeId(2), 1));
        var snapshot = (OutboxSnapshot)RoundTrip(outbox.ToSnapshot());
        Assert.Equal(outbox.PendingMessages, Outbox.FromSnapshot(new NodeId(1), OutboxLimits.Default, snapshot).PendingMessages);
        Assert.Equal(["a"], snapshot.ConfirmedKeys);

        var table = new DedupTable(10, 10);
        table.Record(new NodeId(1), 1);
        table.Record(new NodeId(1), 3);
        var handler = new KeyCountHandler();
        handler.Apply(new NodeId(1), "a", new Increment("a"), recovering: false);
        var receiver = (DeliveryReceiverSnapshot)RoundTrip(new DeliveryReceiverSnapshot(table.ToSnapshot(), handler.Snapshot()));
        var senderRecord = Assert.Single(receiver.Dedup.Senders);
        Assert.Equal((1, 1L), (senderRecord.From, senderRecord.HighWaterSeq));
        Assert.Equal([3L], senderRecord.Above);
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1 }, ((KeyCounts)receiver.HandlerState).ToDictionary());
    }

    private object RoundTrip(object value)
    {
        var serializer = Sys.Serialization.FindSerializerFor(value);
        return Sys.Serialization.Deserialize(serializer.ToBinary(value), serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, value));
    }
}

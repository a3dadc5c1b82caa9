using DistSysActors.Core.Protocol;
using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Core.Tests;

/// <summary>Drives a core's Ready the way a host without a journal does: take it, advance it, keep its messages.</summary>
internal static class ProtocolCoreExtensions
{
    public static IReadOnlyList<Outgoing<TMessage>> TakeMessages<TMessage, TReady>(this IProtocolCore<TMessage, TReady> core)
        where TReady : class, IReady<TMessage>
    {
        var ready = core.TakeReady();
        core.Advance(ready);
        return [.. ready.MessagesBeforePersist, .. ready.MessagesAfterPersist];
    }

    public static IReadOnlyList<(NodeId To, DeliveryEnvelope Envelope)> TakeEnvelopes(this Outbox outbox) =>
        [.. outbox.TakeMessages().Select(o => (o.To, (DeliveryEnvelope)o.Message))];
}

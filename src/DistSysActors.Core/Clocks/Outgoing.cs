namespace DistSysActors.Core.Clocks;

/// <summary>A message a clock core wants sent to <paramref name="To"/>; the host takes these from the core's outbox and sends them.</summary>
public readonly record struct Outgoing<TMessage>(NodeId To, TMessage Message);

namespace DistSysActors.Core.Protocol;

/// <summary>A message a core wants sent to <paramref name="To"/>; the host hands it to the network.</summary>
public readonly record struct Outgoing<TMessage>(NodeId To, TMessage Message);

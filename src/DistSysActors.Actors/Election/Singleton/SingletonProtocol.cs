using Akka.Actor;

namespace DistSysActors.Actors.Election.Singleton;

/// <summary>
/// Messages of the Akka Cluster Singleton every node hosts (<see cref="SingletonHostActor"/>). <see cref="GetInstance"/>
/// and <see cref="Instance"/> cross nodes (through the singleton proxy) on <see cref="SingletonSerializer"/>; the rest
/// stay inside one node.
/// </summary>
public static class SingletonProtocol
{
    /// <summary>Base of the messages that cross nodes.</summary>
    public abstract record SingletonMessage : DistSysActors.Core.IWireSerialized;

    /// <summary>Asks the singleton, wherever it runs, who and where it is.</summary>
    public sealed record GetInstance : SingletonMessage
    {
        public static readonly GetInstance Default = new();
    }

    /// <summary>The singleton's answer: the node it runs on, its incarnation (new at every start) and its count of ticks.</summary>
    public sealed record Instance(int NodeId, string Incarnation, long Count) : SingletonMessage;

    /// <summary>Asks the host actor for <see cref="Status"/>.</summary>
    public sealed record GetStatus
    {
        public static readonly GetStatus Default = new();
    }

    /// <summary>
    /// What this node knows of the singleton: the instance the proxy reached (null when it got no answer in time), and the
    /// instance running on this node, if any: 0 or 1 normally, and both "1" on two nodes at once is the unsafe window.
    /// </summary>
    public sealed record Status(Instance? Reached, string? LocalIncarnation, long LocalCount, int LocalInstances);

    /// <summary>An instance tells its node's host actor that it started (local only).</summary>
    internal sealed record InstanceStarted(string Incarnation) : INoSerializationVerificationNeeded;

    /// <summary>An instance counted one more tick (local only).</summary>
    internal sealed record InstanceCounted(string Incarnation, long Count) : INoSerializationVerificationNeeded;

    /// <summary>An instance tells its node's host actor that it stopped (local only).</summary>
    internal sealed record InstanceStopped(string Incarnation) : INoSerializationVerificationNeeded;
}

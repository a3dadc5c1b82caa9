using Akka.Actor;
using DistSysActors.Actors.Network;
using DistSysActors.Core;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>
/// A stand-in for the per-node network component in single-system tests: delivers each Send to the actor that
/// registered for the destination node and service (given by <see cref="Attach"/>; the default group's service unless
/// named), and can cut nodes off.
/// </summary>
public sealed class LocalRaftNetwork : ReceiveActor
{
    public sealed record Attach(NodeId Node, IActorRef Actor, string Service = Actors.Raft.RaftProtocol.Service);
    public sealed record Isolate(NodeId Node, bool Isolated);

    private readonly Dictionary<(NodeId Node, string Service), IActorRef> _nodes = new();
    private readonly HashSet<NodeId> _isolated = new();

    public LocalRaftNetwork()
    {
        Receive<Attach>(a => _nodes[(a.Node, a.Service)] = a.Actor);
        Receive<Isolate>(i => { if (i.Isolated) _isolated.Add(i.Node); else _isolated.Remove(i.Node); Sender.Tell(i); });
        Receive<NetworkProtocol.Register>(_ => { });
        Receive<NetworkProtocol.Send>(s =>
        {
            var from = (s.Payload as Core.Raft.RaftMessage)?.From;
            if (_isolated.Contains(s.To) || (from is { } f && _isolated.Contains(f))) return;
            if (_nodes.TryGetValue((s.To, s.Service), out var target)) target.Tell(s.Payload, Self);
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new LocalRaftNetwork());
}

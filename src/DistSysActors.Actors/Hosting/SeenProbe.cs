using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;

namespace DistSysActors.Actors.Hosting;

/// <summary>
/// The question a node with no Raft state asks its cluster before it may vote: has any of you, holding Raft state, seen
/// me as a member (or, for a joining server, still counted me in its Raft configuration)? On the localhost port plan it
/// is asked over HTTP (<c>GET /admin/seen/{id}</c>); across hosts the asker knows only the seed addresses, so it asks
/// them over Akka.Remote, from a short-lived remoting-only actor system, before its own node starts (so it has neither
/// voted nor campaigned when it refuses). Every running node answers through <see cref="Responder"/> at
/// <c>/user/distsys-seen</c>.
/// </summary>
public static class SeenProbe
{
    public const string ActorName = "distsys-seen";

    public abstract record SeenMessage : IWireSerialized;

    /// <summary>Has the answering node seen node <paramref name="NodeId"/>?</summary>
    public sealed record Question(int NodeId) : SeenMessage;

    /// <summary>
    /// The answering node's id, Raft term and last log index, whether it has seen the asker as a cluster member, whether
    /// its Raft configuration has it, and its HTTP base address (where the asker's operator sends membership changes).
    /// </summary>
    public sealed record Answer(int NodeId, long Term, long LastLogIndex, bool Seen, bool RaftMember, string? Http = null) : SeenMessage;

    /// <summary>Answers each <see cref="Question"/> with <paramref name="answer"/>'s answer; says nothing when it has none (not ready yet).</summary>
    public static Props Responder(Func<int, Task<Answer?>> answer) => Props.Create(() => new ResponderActor(answer));

    private sealed class ResponderActor : ReceiveActor
    {
        public ResponderActor(Func<int, Task<Answer?>> answer)
        {
            ReceiveAsync<Question>(async q =>
            {
                var sender = Sender;
                if (await answer(q.NodeId) is { } a) sender.Tell(a);
            });
        }
    }

    /// <summary>
    /// Asks every address in <paramref name="peers"/> (each a node's actor system) at once; null for a peer that did not
    /// answer within <paramref name="timeout"/>. <paramref name="nodeConfig"/> is the asking node's remoting configuration
    /// (<see cref="DistSysNodeRuntime.RemotingConfig"/>): the probe binds its hostname on a free port and speaks its
    /// transport (TLS included).
    /// </summary>
    public static async Task<IReadOnlyList<Answer?>> AskAsync(Config nodeConfig, IReadOnlyList<Address> peers, int nodeId, TimeSpan timeout)
    {
        var config = ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp.port = 0
            akka.loglevel = ERROR
            akka.stdout-loglevel = ERROR
            akka.remote.log-remote-lifecycle-events = off
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            """).WithFallback(nodeConfig);
        var system = ActorSystem.Create($"{DistSysNodeRuntime.SystemName}-probe", config);
        try
        {
            // A peer whose association fails (nothing listens there yet, its name does not resolve) will not answer: it is
            // given up at once rather than after the timeout, so a fresh cluster's nodes do not wait for each other.
            var failed = peers.Select(p => (p.Host, p.Port)).Distinct()
                .ToDictionary(p => p, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            system.EventStream.Subscribe(system.ActorOf(Props.Create(() => new AssociationFailures(failed))), typeof(Akka.Remote.AssociationErrorEvent));
            return await Task.WhenAll(peers.Select(async peer =>
            {
                var ask = system.ActorSelection(new RootActorPath(peer) / "user" / ActorName).Ask<Answer>(new Question(nodeId), timeout);
                try { return await Task.WhenAny(ask, failed[(peer.Host, peer.Port)].Task) == ask ? await ask : null; }
                catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException or TaskCanceledException) { return null; }
            }));
        }
        finally { await system.Terminate(); }
    }

    private sealed class AssociationFailures : ReceiveActor
    {
        public AssociationFailures(Dictionary<(string Host, int? Port), TaskCompletionSource> failed) =>
            Receive<Akka.Remote.AssociationErrorEvent>(e =>
            {
                if (failed.TryGetValue((e.RemoteAddress.Host, e.RemoteAddress.Port), out var peer)) peer.TrySetResult();
            });
    }
}

/// <summary>Binary form of <see cref="SeenProbe"/>'s question and answer; bound in the reference configuration.</summary>
public sealed class SeenProbeSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4185;

    internal static readonly ManifestTable Format = new(Id, nameof(SeenProbeSerializer), version: 1,
        ManifestEntry.Of<SeenProbe.Question>("Q", static (m, ref w) => w.Int32(m.NodeId), static (ref r) => new SeenProbe.Question(r.Int32())),
        ManifestEntry.Of<SeenProbe.Answer>("A", static (m, ref w) =>
        {
            w.Int32(m.NodeId);
            w.Int64(m.Term);
            w.Int64(m.LastLogIndex);
            w.Bool(m.Seen);
            w.Bool(m.RaftMember);
            w.Bool(m.Http is not null);
            if (m.Http is not null) w.String(m.Http);
        }, static (ref r) =>
        {
            var (id, term, last, seen, member) = (r.Int32(), r.Int64(), r.Int64(), r.Bool(), r.Bool());
            return new SeenProbe.Answer(id, term, last, seen, member, r.Bool() ? r.String() : null);
        }));

    public override int Identifier => Id;
}

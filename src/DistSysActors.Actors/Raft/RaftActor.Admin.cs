using Akka.Actor;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// Membership changes (dissertation 4.2) and leadership transfer (3.10) on behalf of an administrator. Any replica
/// accepts them: a follower passes them on to the leader's replica over the network and relays its answer.
/// </summary>
public sealed partial class RaftActor
{
    /// <summary>Admin requests waiting at once; more answer overloaded (they are rare and the core takes one change at a time).</summary>
    public const int AdminRequestsPendingMax = 64;

    /// <summary>Node ids an admin may add: the ports are base-port + id.</summary>
    public const int NodeIdMax = 10_000;

    private readonly List<PendingAdmin> _admin = new();
    // Requests of this node's clients passed on to the leader's replica, by request id.
    private readonly Dictionary<long, ForwardedAdmin> _forwarded = new();
    private long _nextForwardId;

    /// <summary>Who waits for an admin answer: a client here (Actor), or request RequestId of node From's replica.</summary>
    private sealed record AdminClient(IActorRef? Actor, NodeId From, long RequestId);

    private sealed record PendingAdmin(AdminRequest Request, AdminClient Client, DateTime Deadline);

    private sealed record ForwardedAdmin(AdminRequest Request, IActorRef Client, NodeId Leader);

    private sealed record ForwardExpired(long RequestId);

    private partial bool OnAdminCommand(object message)
    {
        switch (message)
        {
            case AdminRequest request:
                OnAdminRequest(request, new AdminClient(Sender, _self, 0));
                return true;
            case AdminForwarded forwarded:
                OnAdminRequest(forwarded.Request, new AdminClient(null, new NodeId(forwarded.From), forwarded.RequestId));
                return true;
            case AdminAnswered answered when _forwarded.Remove(answered.RequestId, out var waiting):
                Timers.Cancel(new ForwardExpired(answered.RequestId));
                waiting.Client.Tell(answered.Answer switch
                {
                    Members members => members,
                    // The leader's view could not be had: this node's own view is still an answer.
                    _ when waiting.Request is GetMembers => MembersOf(_node!),
                    NotLeader { LeaderId: { } leader } when leader != waiting.Leader.Value =>
                        new Unavailable($"node {_self} forwarded this request here, but node {leader} leads now; retry", Unknown: false),
                    NotLeader => new NotLeader(null),
                    var answer => answer,
                });
                return true;
            case ForwardExpired expired when _forwarded.Remove(expired.RequestId, out var waiting):
                waiting.Client.Tell(waiting.Request is GetMembers
                    ? MembersOf(_node!)
                    : new Unavailable($"the leader, node {waiting.Leader}, did not answer in time", Unknown: true));
                return true;
            case AdminAnswered or ForwardExpired:
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Serves an admin request at the leader, passing a local client's request on to the leader's replica the way a
    /// follower's proposals reach it; a request that was already passed on is never passed on again.
    /// </summary>
    private void OnAdminRequest(AdminRequest request, AdminClient client)
    {
        var node = _node!;
        var leader = node.LeaderId;
        var local = client.Actor is not null;
        if (local && leader is { } l && l != _self && (request is GetMembers || node.Role != RaftRole.Leader))
        {
            Forward(request, client.Actor!, l);
            return;
        }
        if (request is GetMembers)
        {
            ReplyAdmin(client, MembersOf(node));
            return;
        }
        if (node.Role != RaftRole.Leader)
        {
            ReplyAdmin(client, new NotLeader(leader?.Value));
            return;
        }
        if (_admin.Count + _forwarded.Count >= AdminRequestsPendingMax)
        {
            ReplyAdmin(client, new Unavailable("overloaded: too many admin requests pending", Unknown: false));
            return;
        }
        var answer = request switch
        {
            AddMember add => StartConfChange(node, new ConfChange(ConfChangeType.AddLearner, new NodeId(add.NodeId)), add.NodeId),
            RemoveMember remove => StartConfChange(node, new ConfChange(ConfChangeType.RemoveNode, new NodeId(remove.NodeId)), remove.NodeId),
            TransferLeadership transfer => StartTransfer(node, transfer),
            _ => new Rejected($"unknown admin request {request.GetType().Name}", TooLarge: false),
        };
        if (answer is not null) ReplyAdmin(client, answer);
        else _admin.Add(new PendingAdmin(request, client, DateTime.UtcNow + _requestTimeout));
        Flush();
    }

    private void Forward(AdminRequest request, IActorRef client, NodeId leader)
    {
        if (_admin.Count + _forwarded.Count >= AdminRequestsPendingMax)
        {
            client.Tell(new Unavailable("overloaded: too many admin requests pending", Unknown: false));
            return;
        }
        var id = ++_nextForwardId;
        _forwarded[id] = new ForwardedAdmin(request, client, leader);
        Host.Send(leader, Host.Settings.RegisteredService, new AdminForwarded(_self.Value, id, request));
        // A change waits a little longer than the leader's own deadline, so the leader's "unknown" answer wins; a members
        // list falls back to this node's view well before the client gives up.
        var wait = request is GetMembers ? _requestTimeout / 2 : _requestTimeout + TimeSpan.FromMilliseconds(500);
        Timers.StartSingleTimer(new ForwardExpired(id), new ForwardExpired(id), wait);
    }

    private void ReplyAdmin(AdminClient client, object answer)
    {
        if (client.Actor is { } actor) actor.Tell(answer);
        else Host.Send(client.From, Host.Settings.RegisteredService, new AdminAnswered(client.RequestId, answer));
    }

    /// <summary>Proposes the change; null when it was accepted (the answer comes once it is applied), else the answer.</summary>
    private object? StartConfChange(RaftNode node, ConfChange change, int id)
    {
        if (id < 1 || id > NodeIdMax) return new Rejected($"node id {id} is out of range 1..{NodeIdMax}", TooLarge: false);
        // A retried add of a learner still catching up waits for its promotion like the first request.
        if (change.Type == ConfChangeType.AddLearner && node.Membership.IsLearner(change.Node) && _settings.AutoPromoteLearners) return null;
        if (node.Membership.Check(change) is { } invalid) return new Rejected(invalid, TooLarge: false);
        var result = node.ProposeConfChange(change);
        if (result.Status != ProposeStatus.Appended)
            return new Unavailable($"the leader did not accept the membership change: {result.Reason}", Unknown: false);
        return null;
    }

    private object? StartTransfer(RaftNode node, TransferLeadership transfer)
    {
        NodeId target;
        if (transfer.To is { } to)
        {
            if (to == _self.Value) return new Rejected($"node {to} is already the leader", TooLarge: false);
            if (!node.Membership.IsVoter(new NodeId(to))) return new Rejected($"node {to} is not a voter", TooLarge: false);
            target = new NodeId(to);
        }
        else
        {
            // The most up-to-date voter needs the shortest catch-up before it can take over.
            if (node.MostCaughtUpVoter() is not { } best) return new Rejected("there is no other voter to transfer leadership to", TooLarge: false);
            target = best;
        }
        if (!node.TransferLeadership(target))
            return new Unavailable($"the leader did not start a transfer to {target}", Unknown: false);
        return null;
    }

    /// <summary>Answers the admin requests whose outcome is now known; called after every Ready and tick.</summary>
    private void CheckAdmin()
    {
        if (_admin.Count == 0) return;
        var node = _node!;
        foreach (var pending in _admin.ToList())
        {
            object? answer = pending.Request switch
            {
                AddMember add when _appliedMembership.IsVoter(new NodeId(add.NodeId))
                                   || (!_settings.AutoPromoteLearners && _appliedMembership.IsLearner(new NodeId(add.NodeId))) => MembersOf(node),
                RemoveMember remove when !_appliedMembership.Contains(new NodeId(remove.NodeId)) => MembersOf(node),
                TransferLeadership when node.LeaderId is { } leader && leader != _self => new TransferDone(leader.Value, node.Term),
                TransferLeadership when node.Role == RaftRole.Leader && node.TransferTarget is null =>
                    new Unavailable("the leadership transfer did not finish in time; this node still leads", Unknown: false),
                _ => null,
            };
            if (answer is null) continue;
            _admin.Remove(pending);
            ReplyAdmin(pending.Client, answer);
        }
    }

    private void ExpireAdmin(DateTime now)
    {
        foreach (var pending in _admin.Where(a => a.Deadline < now).ToList())
        {
            // A proposed change may still commit, and a transfer may still complete: the outcome is unknown.
            _admin.Remove(pending);
            ReplyAdmin(pending.Client, new Unavailable($"{pending.Request.GetType().Name} was not confirmed in time", Unknown: true));
        }
    }

    private Members MembersOf(RaftNode node)
    {
        var peers = node.Peers.ToDictionary(p => p.Node);
        var leading = node.Role == RaftRole.Leader;
        var last = node.LastLogIndex;
        var servers = node.Membership.All.Order().Select(id =>
        {
            if (!leading) return new MemberInfo(id.Value, node.Membership.IsVoter(id), 0, -1);
            var match = id == _self ? last : peers.TryGetValue(id, out var p) ? p.Match : 0;
            return new MemberInfo(id.Value, node.Membership.IsVoter(id), match, last - match);
        }).ToList();
        return new Members(servers, node.LeaderId?.Value, node.CommitIndex);
    }
}

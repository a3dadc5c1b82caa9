using Akka.Actor;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Raft;

/// <summary>Membership changes (dissertation 4.2) and leadership transfer (3.10) on behalf of an administrator.</summary>
public sealed partial class RaftActor
{
    /// <summary>Admin requests waiting at once; more answer overloaded (they are rare and the core takes one change at a time).</summary>
    public const int AdminRequestsPendingMax = 64;

    /// <summary>Node ids an admin may add: the ports are base-port + id.</summary>
    public const int NodeIdMax = 10_000;

    private readonly List<PendingAdmin> _admin = new();

    private sealed record PendingAdmin(AdminRequest Request, IActorRef Client, DateTime Deadline);

    private partial bool OnAdminCommand(object message)
    {
        if (message is not AdminRequest request) return false;
        var node = _node!;
        if (request is GetMembers)
        {
            Sender.Tell(MembersOf(node));
            return true;
        }
        if (node.Role != RaftRole.Leader)
        {
            Sender.Tell(new NotLeader(node.LeaderId?.Value));
            return true;
        }
        if (_admin.Count >= AdminRequestsPendingMax)
        {
            Sender.Tell(new Unavailable("overloaded: too many admin requests pending", Unknown: false));
            return true;
        }
        var answer = request switch
        {
            AddMember add => StartConfChange(node, new ConfChange(ConfChangeType.AddLearner, new NodeId(add.NodeId)), add.NodeId),
            RemoveMember remove => StartConfChange(node, new ConfChange(ConfChangeType.RemoveNode, new NodeId(remove.NodeId)), remove.NodeId),
            TransferLeadership transfer => StartTransfer(node, transfer),
            _ => new Rejected($"unknown admin request {request.GetType().Name}", TooLarge: false),
        };
        if (answer is not null) Sender.Tell(answer);
        else _admin.Add(new PendingAdmin(request, Sender, DateTime.UtcNow + _requestTimeout));
        ScheduleFlush();
        return true;
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
            pending.Client.Tell(answer);
        }
    }

    private void ExpireAdmin(DateTime now)
    {
        foreach (var pending in _admin.Where(a => a.Deadline < now).ToList())
        {
            // A proposed change may still commit, and a transfer may still complete: the outcome is unknown.
            _admin.Remove(pending);
            pending.Client.Tell(new Unavailable($"{pending.Request.GetType().Name} was not confirmed in time", Unknown: true));
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

using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using DistSysActors.Core;

namespace DistSysActors.Actors.Network;

/// <summary>
/// Peer addresses from the cluster membership: every member carries its node id as the role <c>node-I</c>, so node I is
/// reached wherever it runs. The last address seen for an id is kept (a downed node that restarts at the same address is
/// reached before it is Up again); a member of the same id at another address replaces it.
/// </summary>
public sealed partial class NetworkActor
{
    protected override void PreStart()
    {
        base.PreStart();
        if (_addressing != PeerAddressing.Static)
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
    }

    protected override void PostStop()
    {
        if (_addressing != PeerAddressing.Static) Cluster.Get(Context.System).Unsubscribe(Self);
        base.PostStop();
    }

    private void OnMemberEvent(ClusterEvent.IMemberEvent e)
    {
        if (e is ClusterEvent.MemberRemoved || NodeRoles.IdOf(e.Member) is not { } id) return;
        var peer = new NodeId(id);
        if (peer == _self || (_peers.TryGetValue(peer, out var known) && known.Equals(e.Member.Address))) return;
        _peers = _peers.SetItem(peer, e.Member.Address);
        _peerRefs.Remove(peer);
        _log.Info("node {0} reaches node {1} at {2} (cluster membership)", _self, peer, e.Member.Address);
        // The link to a newly known address obeys the partition in force, like every other link.
        ApplyThrottles(_planner.Spec, only: peer);
    }
}

using Akka.Cluster;
using DistSysActors.Actors.Configuration;

namespace DistSysActors.Actors.Network;

/// <summary>
/// A node's id travels in the cluster membership as the Akka.Cluster role <c>node-I</c>: this is how any node finds
/// the address of node I, on whatever host and port it runs.
/// </summary>
public static class NodeRoles
{
    public const string Prefix = "node-";

    /// <summary>The role node <paramref name="id"/> carries.</summary>
    public static string Of(int id) => $"{Prefix}{id}";

    /// <summary>The node id a member carries in its roles; null when it carries none (e.g. a client system).</summary>
    public static int? IdOf(Member member)
    {
        foreach (var role in member.Roles)
            if (role.StartsWith(Prefix, StringComparison.Ordinal)
                && int.TryParse(role.AsSpan(Prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
                && NodeSettings.InPortPlan(id))
                return id;
        return null;
    }
}

/// <summary>How the network component finds a peer's address.</summary>
public enum PeerAddressing
{
    /// <summary>Only the peers it was given (and its resolver): no cluster, e.g. remoting-only tests.</summary>
    Static,
    /// <summary>The cluster membership first; the given peers (the localhost port plan) for ids not yet members.</summary>
    MembershipFirst,
    /// <summary>The cluster membership only: a cluster spread over hosts, found through seed addresses.</summary>
    MembershipOnly,
}

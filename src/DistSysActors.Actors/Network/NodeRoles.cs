using Akka.Cluster;
using DistSysActors.Actors.Configuration;

namespace DistSysActors.Actors.Network;

/// <summary>
/// A node's id travels in the cluster membership as the Akka.Cluster role <c>node-I</c>: this is how any node finds
/// the address of node I, on whatever host and port it runs. Its HTTP API's address travels beside it as the role
/// <c>http=URL</c>, so a node (or its dashboard) reaches another node's HTTP API without the port plan.
/// </summary>
public static class NodeRoles
{
    public const string Prefix = "node-";
    public const string HttpPrefix = "http=";

    /// <summary>The role that carries a node's HTTP base address, e.g. <c>http=http://10.0.0.1:8081</c>.</summary>
    public static string Http(string baseUrl) => HttpPrefix + baseUrl;

    /// <summary>The HTTP base address a member carries in its roles; null when it carries none.</summary>
    public static string? HttpUrlOf(Member member)
    {
        foreach (var role in member.Roles)
            if (role.StartsWith(HttpPrefix, StringComparison.Ordinal)) return role[HttpPrefix.Length..];
        return null;
    }

    /// <summary>
    /// The HTTP base address other nodes reach a node at: its public hostname when one is set, else the HTTP bind address
    /// when it is one address, else its hostname (a bind to 0.0.0.0 or :: is not an address to call).
    /// </summary>
    public static string HttpUrl(NodeSettings node, Akka.Configuration.Config distsys) => HttpUrl(node, distsys.GetString("distsys.http.bind", "127.0.0.1"));

    /// <inheritdoc cref="HttpUrl(NodeSettings, Akka.Configuration.Config)"/>
    public static string HttpUrl(NodeSettings node, string httpBind)
    {
        var host = node.PublicHostname.Length > 0 ? node.PublicHostname
            : httpBind is "0.0.0.0" or "::" or "[::]" ? node.Hostname
            : httpBind;
        if (host.Contains(':') && !host.StartsWith('[')) host = $"[{host}]";
        return $"http://{host}:{node.SelfHttpPort}";
    }

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

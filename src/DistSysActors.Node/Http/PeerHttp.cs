using DistSysActors.Actors.Network;
using DistSysActors.Node.Hosting;

namespace DistSysActors.Node.Http;

/// <summary>
/// How a node reaches another node's HTTP API (to merge the cluster's logs, ask a transaction's coordinator, feed its
/// dashboard): at the address the peer carries in the cluster membership (its role <c>http=URL</c>), else, on the
/// localhost port plan only, at hostname:(http-base-port + id). Across hosts (seeds given) a node that is not a member
/// now has no known address. Requests present this node's own tokens: a cluster shares them.
/// </summary>
public static class PeerHttp
{
    /// <summary>Node <paramref name="id"/>'s HTTP base address, or null when it is not known.</summary>
    public static string? UrlOf(NodeHost host, int id)
    {
        if (id == host.Node.Id) return host.HttpUrl;
        if (host.Runtime is { } runtime)
            foreach (var member in Akka.Cluster.Cluster.Get(runtime.System).State.Members)
                if (NodeRoles.IdOf(member) == id && NodeRoles.HttpUrlOf(member) is { } url) return url;
        return host.Node.UsesSeeds ? null : $"http://{host.Node.Hostname}:{host.Node.HttpPortOf(id)}";
    }

    /// <summary>Like <see cref="UrlOf"/>, failing with the reason as an <see cref="HttpRequestException"/> (what callers of a peer already handle).</summary>
    public static string RequireUrlOf(NodeHost host, int id) =>
        UrlOf(host, id) ?? throw new HttpRequestException($"node {id}'s HTTP address is not known: it is not a cluster member now");

    /// <summary>This node's tokens, for a request to a peer: the admin token on admin paths, the kv token elsewhere.</summary>
    public static Func<bool, string?> Tokens(HttpSettings settings) => admin => admin ? settings.AdminToken : settings.KvToken;

    /// <summary>A client for a node's peers: base addresses per request, this node's tokens presented.</summary>
    public static HttpClient Client(NodeHost host, TimeSpan timeout) => Node.Client.NodeClient.WithTokens(Tokens(host.HttpSettings), timeout);
}

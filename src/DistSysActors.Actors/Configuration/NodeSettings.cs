using Akka.Configuration;

namespace DistSysActors.Actors.Configuration;

/// <summary>
/// The distsys.node section: who this node is and where it listens. Nodes 1..Nodes are the founding servers and the
/// seed nodes; with Join a node (any id of the port plan, usually above Nodes) is a new server joining a running cluster.
/// </summary>
public sealed record NodeSettings(
    int Id, int Nodes, string Hostname, int BasePort, int HttpBasePort, string DataDir, bool RejoinWhenDowned, int SelfJoinAfterMs = 20_000,
    bool Join = false, int ShutdownTransferTimeoutMs = 2_000, string PublicHostname = "", int Port = -1, int HttpPort = -1)
{
    public const string Section = "distsys.node";
    public const int NodesMax = 99;

    public static NodeSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        var nodes = ConfigReader.Int(c, Section, "nodes", 1, NodesMax);
        var settings = new NodeSettings(
            Id: ConfigReader.Int(c, Section, "id", 1, NodesMax),
            Nodes: nodes,
            Hostname: ConfigReader.String(c, Section, "hostname"),
            BasePort: ConfigReader.Int(c, Section, "base-port", 0, 65535 - NodesMax),
            HttpBasePort: ConfigReader.Int(c, Section, "http-base-port", 0, 65535 - NodesMax),
            DataDir: ConfigReader.String(c, Section, "data-dir"),
            RejoinWhenDowned: ConfigReader.Bool(c, Section, "rejoin-when-downed"),
            SelfJoinAfterMs: ConfigReader.Int(c, Section, "self-join-after-ms", 1_000, 3_600_000),
            Join: ConfigReader.Bool(c, Section, "join"),
            ShutdownTransferTimeoutMs: ConfigReader.Int(c, Section, "shutdown-transfer-timeout-ms", 0, 60_000),
            PublicHostname: c.HasPath("public-hostname") ? c.GetString("public-hostname") ?? "" : "",
            Port: ConfigReader.Int(c, Section, "port", -1, 65535),
            HttpPort: ConfigReader.Int(c, Section, "http-port", -1, 65535))
        {
            Seeds = NodeSeeds.Read(c, Section),
        };
        if (settings.Id > nodes && !settings.Join)
            throw new ConfigurationException($"{Section}.id {settings.Id} exceeds {Section}.nodes {nodes} (a new server joining a running cluster needs {Section}.join = on)");
        return settings;
    }

    /// <summary>Whether <paramref name="nodeId"/> has ports in the plan: every id a node may have, founding or joining.</summary>
    public static bool InPortPlan(int nodeId) => nodeId is >= 1 and <= NodesMax;

    /// <summary>
    /// Akka.Cluster seed node addresses (distsys.node.seeds) as given, e.g. akka.tcp://distsys@10.0.0.1:4051. Empty: the
    /// port plan on this host (node I at hostname:(base-port + I)) is the seed list.
    /// </summary>
    public System.Collections.Immutable.ImmutableArray<string> Seeds { get; init; } = System.Collections.Immutable.ImmutableArray<string>.Empty;

    /// <summary>Whether this node finds its cluster through <see cref="Seeds"/> rather than the port plan.</summary>
    public bool UsesSeeds => !Seeds.IsEmpty;

    /// <summary>The host name other nodes reach this one at: public-hostname, else hostname.</summary>
    public string AdvertisedHostname => PublicHostname.Length > 0 ? PublicHostname : Hostname;

    /// <summary>This node's Akka.Remote port: distsys.node.port, else the port plan's base-port + id.</summary>
    public int SelfRemotePort => Port >= 0 ? Port : RemotePortOf(Id);

    /// <summary>This node's HTTP port: distsys.node.http-port, else the port plan's http-base-port + id.</summary>
    public int SelfHttpPort => HttpPort >= 0 ? HttpPort : HttpPortOf(Id);

    /// <summary>The port plan (localhost only): node I's Akka.Remote port.</summary>
    public int RemotePortOf(int nodeId) => BasePort + nodeId;
    /// <summary>The port plan (localhost only): node I's HTTP port.</summary>
    public int HttpPortOf(int nodeId) => HttpBasePort + nodeId;
    public string NodeDataDir => Path.Combine(DataDir, $"node-{Id}");
}

using System.CommandLine;
using System.Globalization;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys node`'s options for a cluster over several hosts: where Akka.Remote binds and is reached, its port, the HTTP
/// port, and the seed nodes. Each becomes the distsys.node key of the same name, so HOCON and the command line agree.
/// </summary>
internal sealed class NodeAddressOptions
{
    public required Option<string?> Hostname { get; init; }
    public required Option<string?> PublicHostname { get; init; }
    public required Option<int?> Port { get; init; }
    public required Option<int?> HttpPort { get; init; }
    public required Option<string[]> Seeds { get; init; }

    public IEnumerable<Option> All => [Hostname, PublicHostname, Port, HttpPort, Seeds];

    public static NodeAddressOptions Create() => new()
    {
        Hostname = new Option<string?>("--hostname")
        {
            Description = "The address Akka.Remote binds to (default 127.0.0.1; 0.0.0.0 with --public-hostname for every interface): distsys.node.hostname",
        },
        PublicHostname = new Option<string?>("--public-hostname")
        {
            Description = "The host name or address other nodes reach this one at, when it differs from --hostname: distsys.node.public-hostname",
        },
        Port = PortOption("--port", "This node's Akka.Remote port (default base-port + id): distsys.node.port"),
        HttpPort = PortOption("--http-port", "This node's HTTP port (default http-base-port + id): distsys.node.http-port"),
        Seeds = new Option<string[]>("--seed")
        {
            Description = "A seed node of the cluster, e.g. akka.tcp://distsys@10.0.0.1:4051 (repeatable; list the same seeds in the same order on every node): distsys.node.seeds. " +
                          "Without it the seeds are nodes 1..nodes of the localhost port plan",
            AllowMultipleArgumentsPerToken = false,
        },
    };

    private static Option<int?> PortOption(string name, string description)
    {
        var option = new Option<int?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } v && v is < 0 or > 65535) r.AddError($"{name} must be between 0 and 65535, was {v}");
        });
        return option;
    }

    /// <summary>The distsys.node settings these options give, as --set overrides (a later --set still wins).</summary>
    public IReadOnlyList<string> Sets(ParseResult parse)
    {
        var sets = new List<string>();
        if (parse.GetValue(Hostname) is { } h) sets.Add($"distsys.node.hostname={Quote(h)}");
        if (parse.GetValue(PublicHostname) is { } p) sets.Add($"distsys.node.public-hostname={Quote(p)}");
        if (parse.GetValue(Port) is { } port) sets.Add(string.Create(CultureInfo.InvariantCulture, $"distsys.node.port={port}"));
        if (parse.GetValue(HttpPort) is { } httpPort) sets.Add(string.Create(CultureInfo.InvariantCulture, $"distsys.node.http-port={httpPort}"));
        if (parse.GetValue(Seeds) is { Length: > 0 } seeds) sets.Add($"distsys.node.seeds=[{string.Join(", ", seeds.Select(Quote))}]");
        return sets;
    }

    private static string Quote(string value) => $"\"{value.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"";
}

using System.CommandLine;
using System.CommandLine.Parsing;

namespace DistSysActors.Node.Commands;

/// <summary>Options shared by several commands, validated where they are parsed.</summary>
internal static class CommonOptions
{
    public static Option<int> NodeCount(int defaultValue, int max = 9)
    {
        var option = new Option<int>("--nodes") { Description = $"Number of nodes in the cluster (1..{max})", DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int>();
            if (v < 1 || v > max) r.AddError($"--nodes must be between 1 and {max}, was {v}");
        });
        return option;
    }

    /// <summary>An integer option within [<paramref name="min"/>, <paramref name="max"/>], the range shown in its description.</summary>
    public static Option<int> Int(string name, int defaultValue, int min, int max, string description)
    {
        var option = new Option<int>(name) { Description = $"{description} ({min}..{max})", DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int>();
            if (v < min || v > max) r.AddError($"{name} must be between {min} and {max}, was {v}");
        });
        return option;
    }

    public static Option<int> Port(string name, int defaultValue, string description)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int>();
            if (v < 1 || v > 65_000) r.AddError($"{name} must be between 1 and 65000, was {v}");
        });
        return option;
    }

    public static Option<int> BasePort() => Port("--base-port", 4050, "Akka.Remote port of node I is base-port + I");
    public static Option<int> HttpBasePort() => Port("--http-base-port", 8080, "HTTP port of node I is http-base-port + I");

    public static Option<string> DataDir() => new("--data-dir") { Description = "Node I keeps its data under <data-dir>/node-I", DefaultValueFactory = _ => "data" };

    public static Option<int?> EntryNode()
    {
        var option = new Option<int?>("--node") { Description = "Node to ask (default: the first of nodes 1..9 that answers, or the --endpoint node)" };
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int?>();
            if (v is < 1 or > 99) r.AddError($"--node must be between 1 and 99, was {v}");
        });
        return option;
    }

    /// <summary>
    /// Finds a node that answers /status: the given one, else (port plan) the first of 1..9, else (with an endpoint) the
    /// endpoint's node first, then the other members it reports.
    /// </summary>
    public static async Task<(Client.NodeClient Client, Http.StatusDto Status)> ConnectAsync(int? node, int httpBasePort, CancellationToken ct)
    {
        var endpoints = Client.NodeEndpoints.Current;
        int[] candidates;
        if (endpoints.IsSet)
        {
            var map = await endpoints.ResolveAsync(ct);
            var self = await endpoints.EndpointNodeIdAsync(ct);
            if ((node ?? self) == self && endpoints.TakeResolutionStatus() is { } fresh)
                return (endpoints.Create(self, httpBasePort), fresh);
            candidates = node is { } chosen ? [chosen] : [self, .. map.Keys.Where(id => id != self)];
        }
        else candidates = node is { } n ? [n] : Enumerable.Range(1, 9).ToArray();
        var errors = new List<string>();
        foreach (var id in candidates)
        {
            var client = endpoints.Create(id, httpBasePort);
            try { return (client, await client.StatusAsync(ct)); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                errors.Add($"node {id} ({client.BaseAddress}): {e.Message}");
                client.Dispose();
            }
        }
        if (endpoints.IsSet)
            throw new CommandException(node is null
                ? $"no node of the cluster at {endpoints.Describe()} answered: {string.Join("; ", errors)}"
                : $"node {node} did not answer at the address the cluster at {endpoints.Describe()} gives: {errors[0]}");
        throw new CommandException(node is null
            ? $"no node answered on http ports {httpBasePort + 1}..{httpBasePort + 9}; is a cluster running (distsys local)? (on other hosts: --endpoint {Client.NodeEndpoints.Example})"
            : $"node {node} did not answer: {errors[0]}");
    }

    /// <summary>
    /// --endpoint URL: any one node's HTTP base address, from which client commands learn every node's (the localhost
    /// port plan when absent and DISTSYS_ENDPOINT is unset). On the root command, recursive, so it goes anywhere on the line.
    /// </summary>
    public static Option<string?> Endpoint() => new(Client.NodeEndpoints.OptionName)
    {
        Description = $"Any one node's HTTP base address, e.g. {Client.NodeEndpoints.Example}: client commands reach the other nodes at the HTTP " +
                      $"addresses its /status lists instead of the localhost port plan (default: ${Client.NodeEndpoints.EnvironmentVariable})",
        Recursive = true,
    };

    /// <summary>The commands that run nodes on this machine themselves: an endpoint does not apply to them.</summary>
    private static readonly string[] LocalClusterCommands = ["node", "local", "bench", "tour"];

    /// <summary>
    /// This run's endpoints from the command line: --endpoint, else DISTSYS_ENDPOINT, checked before any request. A
    /// command that runs its own nodes refuses an explicit --endpoint and ignores the variable; an explicit
    /// --http-base-port cannot be combined with --endpoint, and wins over the variable (the port plan it names is meant).
    /// </summary>
    public static Client.NodeEndpoints EndpointsOf(ParseResult parse, Option<string?> endpoint)
    {
        var given = parse.GetResult(endpoint) is { Implicit: false } ? parse.GetValue(endpoint) ?? "" : null;
        var top = parse.CommandResult;
        while (top.Parent is CommandResult { Parent: not null } parent) top = parent;
        if (top.Parent is null || LocalClusterCommands.Contains(top.Command.Name))
        {
            if (given is not null && top.Parent is not null)
                throw new CommandException($"{Client.NodeEndpoints.OptionName} is for client commands; `distsys {top.Command.Name}` runs nodes on this machine");
            return Client.NodeEndpoints.PortPlan;
        }
        var explicitHttpBasePort = false;
        for (SymbolResult? r = parse.CommandResult; r is not null; r = r.Parent)
            if (r is CommandResult c && c.Children.OfType<OptionResult>().Any(o => o.Option.Name == "--http-base-port" && !o.Implicit))
                explicitHttpBasePort = true;
        if (given is not null && explicitHttpBasePort)
            throw new CommandException($"{Client.NodeEndpoints.OptionName} and --http-base-port cannot be combined: the endpoint's cluster tells where its nodes are");
        return Client.NodeEndpoints.From(given, explicitHttpBasePort ? null : Environment.GetEnvironmentVariable(Client.NodeEndpoints.EnvironmentVariable));
    }

    /// <summary>--consensus raft|paxos: the engine behind /kv on a cluster a command starts (distsys.kv.consensus).</summary>
    public static Option<string> Consensus()
    {
        var option = new Option<string>("--consensus") { Description = "Consensus engine behind /kv on the local cluster: raft (default) or paxos", DefaultValueFactory = _ => "raft" };
        option.AcceptOnlyFromAmong("raft", "paxos");
        return option;
    }

    /// <summary>The node arguments that select <paramref name="consensus"/>.</summary>
    public static IReadOnlyList<string> ConsensusArgs(string consensus) => ["--set", $"distsys.kv.consensus={consensus}"];
}

/// <summary>A user-facing failure: printed as one line, exit code 1.</summary>
internal sealed class CommandException(string message) : Exception(message);

using System.CommandLine;

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
        var option = new Option<int?>("--node") { Description = "Node to ask (default: the first of nodes 1..9 that answers)" };
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int?>();
            if (v is < 1 or > 99) r.AddError($"--node must be between 1 and 99, was {v}");
        });
        return option;
    }

    /// <summary>Finds a node that answers /status: the given one, or the first of 1..9.</summary>
    public static async Task<(Client.NodeClient Client, Http.StatusDto Status)> ConnectAsync(int? node, int httpBasePort, CancellationToken ct)
    {
        var candidates = node is { } n ? [n] : Enumerable.Range(1, 9).ToArray();
        var errors = new List<string>();
        foreach (var id in candidates)
        {
            var client = new Client.NodeClient(id, httpBasePort + id);
            try { return (client, await client.StatusAsync(ct)); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                errors.Add($"node {id} ({client.BaseAddress}): {e.Message}");
                client.Dispose();
            }
        }
        throw new CommandException(node is null
            ? $"no node answered on http ports {httpBasePort + 1}..{httpBasePort + 9}; is a cluster running (distsys local)?"
            : $"node {node} did not answer: {errors[0]}");
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

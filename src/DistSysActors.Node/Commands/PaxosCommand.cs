using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys paxos propose|get|duel`: the Basic Paxos write-once registers over HTTP (<c>/paxos/{name}</c>).</summary>
internal static class PaxosCommand
{
    public static Command Create()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        node.Recursive = httpBasePort.Recursive = true;
        var command = new Command("paxos", "Propose and read Basic Paxos write-once registers; watch two proposers duel") { node, httpBasePort };

        var name = new Argument<string>("name") { Description = "The register's name" };
        var value = new Argument<string>("value") { Description = "The value to propose (UTF-8 text)" };
        var propose = new Command("propose", "Propose a value; prints the value chosen (perhaps another proposer's), its ballot and each phase") { name, value };
        propose.SetAction(async (p, ct) =>
        {
            var (client, _) = await CommonOptions.ConnectAsync(p.GetValue(node), p.GetValue(httpBasePort), ct);
            using (client) return Print(client.NodeId, await client.SendAsync(HttpMethod.Put, Path(p.GetValue(name)!), Text(p.GetValue(value)!), ct));
        });

        var get = new Command("get", "Read the chosen value (a read round when this node's learner knows none)") { name };
        get.SetAction(async (p, ct) =>
        {
            var (client, _) = await CommonOptions.ConnectAsync(p.GetValue(node), p.GetValue(httpBasePort), ct);
            using (client) return Print(client.NodeId, await client.SendAsync(HttpMethod.Get, Path(p.GetValue(name)!), null, ct));
        });

        var between = new Option<int[]>("--between") { Description = "The two nodes whose proposers duel (default: the first two)", AllowMultipleArgumentsPerToken = true };
        var duel = new Command("duel", "Two proposers on two nodes propose different values for one register at once; prints each one's phases and the one value chosen") { name, between };
        duel.SetAction(async (p, ct) =>
        {
            var basePort = p.GetValue(httpBasePort);
            var (entry, status) = await CommonOptions.ConnectAsync(p.GetValue(node), basePort, ct);
            entry.Dispose();
            var ids = Client.NodeEndpoints.Current.Ids(status);
            var pair = p.GetValue(between) is { Length: 2 } chosen ? chosen : [ids[0], ids[Math.Min(1, ids.Count - 1)]];
            if (pair[0] == pair[1] || pair.Any(id => !ids.Contains(id)))
                throw new CommandException($"--between needs two different nodes among {string.Join(", ", ids)}");
            var register = p.GetValue(name)!;
            var clients = pair.Select(id => Client.NodeEndpoints.Current.Create(id, basePort)).ToArray();
            try
            {
                // Both PUTs leave together: their Prepares interleave on the acceptors.
                var answers = await Task.WhenAll(clients.Select(c => c.SendAsync(HttpMethod.Put, Path(register), Text($"from-node-{c.NodeId}"), ct)));
                var codes = 0;
                for (var i = 0; i < clients.Length; i++) codes |= Print(clients[i].NodeId, answers[i]);
                var values = answers.Where(a => a.Code == 200).Select(a => JsonDocument.Parse(a.Body).RootElement.GetProperty("chosen").GetString()).Distinct().ToArray();
                Console.WriteLine(values.Length == 1 ? $"one value chosen: '{values[0]}'" : $"answers disagree or failed: {string.Join(", ", values)}");
                return codes;
            }
            finally
            {
                foreach (var c in clients) c.Dispose();
            }
        });

        command.Subcommands.Add(propose);
        command.Subcommands.Add(get);
        command.Subcommands.Add(duel);
        return command;
    }

    private static string Path(string name) => $"/paxos/{Uri.EscapeDataString(name)}";

    private static StringContent Text(string value) => new(value, Encoding.UTF8, "text/plain");

    /// <summary>Prints one node's answer: the chosen value, its ballot and the proposer's phases; returns the exit code.</summary>
    private static int Print(int nodeId, (int Code, string Body) answer)
    {
        if (answer.Code is not (200 or 404))
        {
            Console.Error.WriteLine($"node {nodeId}: HTTP {answer.Code}: {answer.Body}");
            return 1;
        }
        var json = JsonDocument.Parse(answer.Body).RootElement;
        if (json.TryGetProperty("phases", out var phases) && phases.ValueKind == JsonValueKind.Array)
            foreach (var phase in phases.EnumerateArray()) Console.WriteLine($"  {phase.GetString()}");
        if (answer.Code == 404)
        {
            Console.WriteLine($"node {nodeId}: nothing chosen");
            return 2;
        }
        Console.WriteLine($"node {nodeId}: chosen '{json.GetProperty("chosen").GetString()}' at ballot {json.GetProperty("ballot").GetString()}");
        return 0;
    }
}

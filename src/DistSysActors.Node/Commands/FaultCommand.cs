using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys fault ...`: changes the fault spec on every node of the cluster. Faults accumulate (a drop
/// rate added to a partition keeps the partition) until `fault heal` clears them all.
/// </summary>
internal static class FaultCommand
{
    public static Command Create()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        var seed = new Option<long?>("--seed") { Description = "Seed for the random drop/delay/duplicate decisions" };
        var command = new Command("fault", "Inject faults into every node's network: partition, drop, delay, duplicate, reorder, heal");
        // Recursive: the options may follow the subcommand (`distsys fault heal --node 2`).
        node.Recursive = httpBasePort.Recursive = seed.Recursive = true;
        command.Options.Add(node);
        command.Options.Add(httpBasePort);
        command.Options.Add(seed);

        Add(command, "partition", "Split the cluster into groups that cannot talk, e.g. `partition 1,2/3`", "groups",
            (spec, arg) => spec with { Partitions = ParsePartition(arg) });
        Add(command, "drop", "Drop this fraction of protocol messages, e.g. `drop 0.2`", "rate",
            (spec, arg) => spec with { DropRate = ParseRate(arg, "drop rate") });
        Add(command, "delay", "Delay protocol messages by a uniform random time in a range of ms, e.g. `delay 5-50`", "range",
            (spec, arg) => ParseDelay(spec, arg));
        Add(command, "duplicate", "Deliver this fraction of protocol messages twice, e.g. `duplicate 0.1`", "rate",
            (spec, arg) => spec with { DuplicateRate = ParseRate(arg, "duplicate rate") });
        Add(command, "reorder", "Let delayed messages overtake each other: `reorder on` or `reorder off`", "on|off",
            (spec, arg) => spec with { Reorder = arg switch { "on" => true, "off" => false, _ => throw new CommandException($"reorder expects on or off, got '{arg}'") } });
        var heal = new Command("heal", "Remove every fault from every node");
        heal.SetAction((parse, ct) => ApplyAsync(parse, node, httpBasePort, seed, _ => FaultSpec.None, ct));
        command.Subcommands.Add(heal);
        return command;

        void Add(Command parent, string name, string description, string argName, Func<FaultSpec, string, FaultSpec> change)
        {
            var arg = new Argument<string>(argName);
            var sub = new Command(name, description) { arg };
            sub.SetAction((parse, ct) => ApplyAsync(parse, node, httpBasePort, seed, spec => change(spec, parse.GetValue(arg)!), ct));
            parent.Subcommands.Add(sub);
        }
    }

    private static async Task<int> ApplyAsync(ParseResult parse, Option<int?> node, Option<int> httpBasePort, Option<long?> seed,
        Func<FaultSpec, FaultSpec> change, CancellationToken ct)
    {
        change(FaultSpec.None); // bad arguments fail here, before any node is contacted
        var basePort = parse.GetValue(httpBasePort);
        var (entry, status) = await CommonOptions.ConnectAsync(parse.GetValue(node), basePort, ct);
        entry.Dispose();
        var spec = change(status.Network.Faults.ToSpec());
        if (parse.GetValue(seed) is { } s) spec = spec with { Seed = s };
        var endpoints = Client.NodeEndpoints.Current;
        var ids = endpoints.Ids(status);
        var errors = spec.Validate().ToList();
        errors.AddRange(spec.Partitions.SelectMany(g => g).Where(n => !ids.Contains(n.Value))
            .Select(n => endpoints.IsSet
                ? $"node {n} is not a member of the cluster at {endpoints.Describe()} (members: {string.Join(", ", ids)})"
                : $"node {n} is not in this cluster (nodes 1..{status.Nodes})"));
        if (errors.Count > 0) throw new CommandException(string.Join("; ", errors));

        var failures = 0;
        foreach (var id in ids)
        {
            using var client = endpoints.Create(id, basePort);
            try
            {
                // Each node's own other faults stay (a link delay set on one node alone is not copied to the others); only the
                // asked change and the seed are applied to it. A node that does not answer /status gets the entry node's spec.
                var own = spec;
                if (!spec.IsNone && id != status.NodeId)
                {
                    try { own = change((await client.StatusAsync(ct)).Network.Faults.ToSpec()); }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException) { }
                    if (parse.GetValue(seed) is { } ownSeed) own = own with { Seed = ownSeed };
                }
                using var response = own.IsNone ? await client.HealAsync(ct) : await client.PostFaultsAsync(FaultSpecDto.From(own), ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
                    Console.WriteLine($"node {id}: restarting; faults {StatusCommand.Describe(FaultSpecDto.From(own))} once it is back");
                else if (response.IsSuccessStatusCode) Console.WriteLine($"node {id}: faults now {StatusCommand.Describe(FaultSpecDto.From(own))}");
                else { failures++; Console.WriteLine($"node {id}: refused ({(int)response.StatusCode}): {body}"); }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures++;
                Console.WriteLine($"node {id}: not reachable over HTTP ({e.Message}); it keeps its old faults");
            }
        }
        return failures == 0 ? 0 : 1;
    }

    /// <summary>"1,2/3" -> [[1,2],[3]].</summary>
    public static ImmutableArray<ImmutableArray<NodeId>> ParsePartition(string text)
    {
        var groups = text.Split('/', StringSplitOptions.TrimEntries);
        if (groups.Length < 2) throw new CommandException($"a partition needs at least two groups separated by '/', e.g. 1,2/3 (got '{text}')");
        return groups.Select(g => g.Split(',', StringSplitOptions.TrimEntries).Select(n =>
                int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
                    ? new NodeId(id)
                    : throw new CommandException($"'{n}' in partition '{text}' is not a node id"))
            .ToImmutableArray()).ToImmutableArray();
    }

    private static double ParseRate(string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate is >= 0 and <= 1
            ? rate
            : throw new CommandException($"{what} must be a number between 0 and 1, got '{text}'");

    private static FaultSpec ParseDelay(FaultSpec spec, string text)
    {
        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length is 1 or 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var min)
            && int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var max)
            && min <= max)
            return spec with { DelayMinMs = min, DelayMaxMs = max };
        throw new CommandException($"delay expects a range in ms like 5-50 (min <= max), got '{text}'");
    }
}

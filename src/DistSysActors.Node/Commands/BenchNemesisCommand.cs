using System.CommandLine;
using System.Globalization;
using DistSysActors.Node.Commands.Nemesis;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys bench nemesis`: closed-loop clients on a few keys while a seeded nemesis kills (-9) and restarts nodes and
/// partitions and heals the cluster; the recorded history is checked for linearizability and lost acknowledged
/// writes, and the share of operations whose outcome stayed unknown is measured. The run itself is in
/// <see cref="NemesisRun"/>.
/// </summary>
internal static class BenchNemesisCommand
{
    public sealed record Options(
        int Nodes, int Clients, int Keys, int Seconds, double ReadRatio, int RequestTimeoutMs, int WriteRetries, long? Seed,
        int IntervalMinMs, int IntervalMaxMs, NemesisFaults Faults, int BasePort, int HttpBasePort, string? DataDir, bool KeepData,
        IReadOnlyList<string> Sets);

    public const int IntervalMinMsDefault = 3000;
    public const int IntervalMaxMsDefault = 6000;

    public static Command Create()
    {
        var nodes = CommonOptions.NodeCount(5);
        nodes.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is var v and < 3) r.AddError($"--nodes must be at least 3 for a nemesis (a majority must survive one failure), was {v}");
        });
        var clients = CommonOptions.Int("--clients", 8, 1, 256, "Concurrent closed-loop clients");
        var keys = CommonOptions.Int("--keys", 5, 1, 1000, "Number of distinct keys, picked uniformly (few keys: many operations conflict)");
        var seconds = CommonOptions.Int("--seconds", 40, 1, 3600, "How long the clients and the nemesis run");
        var readRatio = new Option<double>("--read-ratio") { Description = "Share of operations that are linearizable reads, 0.0..1.0", DefaultValueFactory = _ => 0.5 };
        readRatio.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<double>();
            if (!(v is >= 0.0 and <= 1.0)) r.AddError($"--read-ratio must be between 0.0 and 1.0, was {v.ToString(CultureInfo.InvariantCulture)}");
        });
        var timeout = CommonOptions.Int("--request-timeout-ms", 7000, 100, 600_000, "How long a client waits for each answer; none by then is an unknown outcome");
        var retries = CommonOptions.Int("--write-retries", 2, 0, 10,
            "Further attempts ending unknown that a write of unknown outcome may make, sent to the next node under its Idempotency-Key (its attempts are one operation)");
        var seed = new Option<long?>("--seed") { Description = "Seed of the nemesis and the clients (default: random, printed)" };
        var intervalMin = CommonOptions.Int("--interval-min-ms", IntervalMinMsDefault, 100, 600_000, "Shortest wait between two nemesis steps");
        var intervalMax = CommonOptions.Int("--interval-max-ms", IntervalMaxMsDefault, 100, 600_000, "Longest wait between two nemesis steps");
        var faults = new Option<string>("--faults") { Description = "Faults the nemesis injects: kill, partition or kill,partition", DefaultValueFactory = _ => "kill,partition" };
        faults.Validators.Add(r =>
        {
            if (ParseFaults(r.GetValueOrDefault<string>() ?? "", out var error) is null) r.AddError(error!);
        });
        var basePort = CommonOptions.Port("--base-port", 17050, "Akka.Remote port of node I is base-port + I");
        var httpBasePort = CommonOptions.Port("--http-base-port", 21080, "HTTP port of node I is http-base-port + I");
        var dataDir = new Option<string?>("--data-dir") { Description = "Where the nodes keep their data and logs (default: a new temporary folder); must be empty or absent" };
        var keepData = new Option<bool>("--keep-data") { Description = "Keep the data directory (node logs, journals) after a successful run; a failed run always keeps it" };
        var set = new Option<string[]>("--set") { Description = "Passed to every node: override one configuration key (repeatable)" };
        var command = new Command("nemesis",
            "Clients on a few keys while nodes are killed (-9), restarted, partitioned and healed: share of unknown outcomes, linearizability, lost writes")
        {
            nodes, clients, keys, seconds, readRatio, timeout, retries, seed, intervalMin, intervalMax, faults, basePort, httpBasePort, dataDir, keepData, set,
        };
        command.Validators.Add(r =>
        {
            // An option left at its default has no result while validating: its default applies.
            var min = r.GetResult(intervalMin) is { } a ? a.GetValueOrDefault<int>() : IntervalMinMsDefault;
            var max = r.GetResult(intervalMax) is { } b ? b.GetValueOrDefault<int>() : IntervalMaxMsDefault;
            if (min > max) r.AddError($"--interval-min-ms ({min}) must not exceed --interval-max-ms ({max})");
        });
        command.SetAction((p, ct) => NemesisRun.RunAsync(new Options(
            p.GetValue(nodes), p.GetValue(clients), p.GetValue(keys), p.GetValue(seconds), p.GetValue(readRatio), p.GetValue(timeout),
            p.GetValue(retries), p.GetValue(seed), p.GetValue(intervalMin), p.GetValue(intervalMax), ParseFaults(p.GetValue(faults)!, out _)!.Value,
            p.GetValue(basePort), p.GetValue(httpBasePort), p.GetValue(dataDir), p.GetValue(keepData), p.GetValue(set) ?? []), ct));
        return command;
    }

    /// <summary>"kill", "partition" or both, comma-separated; null with <paramref name="error"/> otherwise.</summary>
    public static NemesisFaults? ParseFaults(string text, out string? error)
    {
        NemesisFaults faults = 0;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            switch (part)
            {
                case "kill": faults |= NemesisFaults.Kill; break;
                case "partition": faults |= NemesisFaults.Partition; break;
                default:
                    error = $"--faults takes kill, partition or kill,partition; '{part}' is neither";
                    return null;
            }
        }
        if (faults == 0)
        {
            error = "--faults needs at least one of kill, partition";
            return null;
        }
        error = null;
        return faults;
    }

}

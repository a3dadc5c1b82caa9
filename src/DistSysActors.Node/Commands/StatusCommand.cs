using System.CommandLine;
using System.Text.Json;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys status`: one node's view of the cluster as a table.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        var json = new Option<bool>("--json") { Description = "Print the raw /status JSON" };
        var command = new Command("status", "Show a node's view of the cluster: members, status, reachability, faults") { node, httpBasePort, json };
        command.SetAction(async (parse, ct) =>
        {
            var (client, status) = await CommonOptions.ConnectAsync(parse.GetValue(node), parse.GetValue(httpBasePort), ct);
            using var _ = client;
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(status, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
                return 0;
            }
            Console.Write(Render(status));
            // Servers added after start (ids above N) have rows too; with an endpoint, every member it reports.
            var ids = Client.NodeEndpoints.Current.Ids(status).Concat(status.Raft?.Voters ?? []).Concat(status.Raft?.Learners ?? []).Distinct().Order();
            Console.Write(await RenderRaftAsync(ids, parse.GetValue(httpBasePort), ct));
            return 0;
        });
        return command;
    }

    public static string Render(StatusDto s)
    {
        var w = new StringWriter();
        w.WriteLine($"node {s.NodeId} of {s.Nodes} ({s.Address}) is {s.SelfStatus}; incarnation {s.Incarnation}; faults: {Describe(s.Network.Faults)}");
        w.WriteLine();
        w.WriteLine($"{"NODE",-5} {"STATUS",-9} {"REACHABLE",-10} {"ADDRESS",-42} HTTP");
        foreach (var m in s.Members)
            w.WriteLine($"{m.NodeId?.ToString() ?? "?",-5} {m.Status,-9} {(m.Reachable ? "yes" : "NO"),-10} {m.Address,-42} {m.Http ?? "-"}");
        if (s.Ping.Count > 0)
        {
            w.WriteLine();
            w.WriteLine($"{"PEER",-5} {"PINGS OUT",-10} {"PINGS IN",-9} {"PONGS",-7} {"RTT MS",-7} LAST PONG");
            foreach (var p in s.Ping)
                w.WriteLine($"{p.NodeId,-5} {p.PingsSent,-10} {p.PingsReceived,-9} {p.PongsReceived,-7} {p.LastRttMs?.ToString() ?? "-",-7} {(p.LastPongAgeMs is { } a ? $"{a} ms ago" : "never")}");
        }
        var c = s.Network.Counters;
        w.WriteLine();
        w.WriteLine($"network: sent {c.Sent}, dropped {c.Dropped}, partitioned {c.DroppedByPartition + c.ReceivedDroppedByPartition}, delayed {c.Delayed}, duplicated {c.Duplicated}, received {c.ReceivedDelivered}");
        return w.ToString();
    }

    /// <summary>Every node's Raft view, one row each (asked over HTTP; a node that does not answer, or has no known address, says so).</summary>
    public static async Task<string> RenderRaftAsync(IEnumerable<int> ids, int httpBasePort, CancellationToken ct)
    {
        var w = new StringWriter();
        w.WriteLine();
        w.WriteLine($"{"RAFT",-5} {"ROLE",-13} {"TERM",-6} {"LEADER",-7} {"COMMIT",-8} {"APPLIED",-8} LAST INDEX");
        foreach (var id in ids)
        {
            if (!Client.NodeEndpoints.Current.Knows(id))
            {
                w.WriteLine($"{id,-5} (no HTTP address known)");
                continue;
            }
            using var c = Client.NodeEndpoints.Current.Create(id, httpBasePort);
            try
            {
                var r = (await c.StatusAsync(ct)).Raft;
                w.WriteLine(r is null
                    ? $"{id,-5} (raft disabled)"
                    : $"{id,-5} {r.Role,-13} {r.Term,-6} {r.LeaderId?.ToString() ?? "-",-7} {r.CommitIndex,-8} {r.LastApplied,-8} {r.LastLogIndex}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                w.WriteLine($"{id,-5} (no answer)");
            }
        }
        return w.ToString();
    }

    public static string Describe(FaultSpecDto f)
    {
        var parts = new List<string>();
        if (f.Partitions.Length > 0) parts.Add("partition " + string.Join("/", f.Partitions.Select(g => string.Join(",", g))));
        if (f.DropRate > 0) parts.Add($"drop {f.DropRate}");
        if (f.DelayMs is [_, > 0]) parts.Add($"delay {f.DelayMs[0]}-{f.DelayMs[1]} ms");
        if (f.DuplicateRate > 0) parts.Add($"duplicate {f.DuplicateRate}");
        if (f.Reorder) parts.Add("reorder");
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DistSysActors.Core.Logging;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys logs`: the cluster's log records merged into one readable view (GET /logs on any node), in HLC, Lamport or
/// wall-clock order; in wall order, a receive shown before its send is marked, which is how wall clocks mislead under skew.
/// </summary>
internal static class LogsCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly ConsoleColor[] NodeColours = [ConsoleColor.Cyan, ConsoleColor.Green, ConsoleColor.Magenta, ConsoleColor.Yellow, ConsoleColor.Blue];

    public static Command Create()
    {
        var trace = new Option<string?>("--trace") { Description = "Only the records of this trace id (32 hex digits, as in a traceparent header)" };
        var node = new Option<int?>("--node") { Description = "Only the records of node I" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new records as they arrive (Ctrl+C stops)" };
        var order = new Option<string>("--order") { Description = "hlc (default, causal and close to real time), lamport (causal), or wall (each node's own clock: misleads under skew)", DefaultValueFactory = _ => "hlc" };
        order.AcceptOnlyFromAmong("hlc", "lamport", "wall");
        var severity = new Option<string?>("--severity") { Description = "Minimum severity: TRACE, DEBUG, INFO, WARN, ERROR, FATAL" };
        var limit = CommonOptions.Int("--limit", 200, 1, LogQuery.LimitMax, "Records shown at most (the latest)");
        var via = new Option<int?>("--via") { Description = "Node to ask (default: the first of nodes 1..9 that answers); every node answers for the whole cluster" };
        var httpBasePort = CommonOptions.HttpBasePort();
        var command = new Command("logs", "Show the cluster's log records merged in causal order") { trace, node, follow, order, severity, limit, via, httpBasePort };
        command.SetAction(async (p, ct) =>
        {
            var kind = LogOrder.TryParse(p.GetValue(order))!.Value;
            var basePort = p.GetValue(httpBasePort);
            var (client, _) = await CommonOptions.ConnectAsync(p.GetValue(via), basePort, ct);
            using var _client = client;
            var filter = new StringBuilder($"?order={p.GetValue(order)}&limit={p.GetValue(limit)}");
            if (p.GetValue(trace) is { } t) filter.Append("&trace=").Append(Uri.EscapeDataString(t));
            if (p.GetValue(node) is { } n) filter.Append("&node=").Append(n);
            if (p.GetValue(severity) is { } s) filter.Append("&severity=").Append(Uri.EscapeDataString(s));
            var colour = !Console.IsOutputRedirected;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            long? since = null;
            while (true)
            {
                var path = "/logs" + filter + (since is { } w ? $"&since={w}" : "");
                var (code, body) = await client.SendAsync(HttpMethod.Get, path, ct: ct);
                if (code != 200) throw new CommandException($"GET {path} answered {code}: {body}");
                var records = JsonSerializer.Deserialize<List<LogRecordDto>>(body, Json)!.Where(r => seen.Add(r.Id)).Select(r => r.ToRecord()).ToList();
                Print(records, kind, colour);
                if (!p.GetValue(follow)) return 0;
                // Records sharing the last wall part may still arrive: ask again from just before it; ids already shown are skipped.
                if (records.Count > 0) since = records.Max(r => r.Hlc.WallMs) - 1;
                try { await Task.Delay(TimeSpan.FromSeconds(1), ct); }
                catch (OperationCanceledException) { return 0; }
            }
        });
        return command;
    }

    /// <summary>One line per record: wall time, node, HLC, Lamport, severity, short trace id, body, attributes.</summary>
    public static void Print(IReadOnlyList<LogRecord> records, LogOrderKind kind, bool colour)
    {
        var misordered = LogOrder.ReceivesBeforeSends(records).Select(v => v.Receive.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var r in records)
        {
            var wall = DateTimeOffset.FromUnixTimeMilliseconds(r.TimestampMs).ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
            var trace = r.TraceId is { } id ? id[..8] : "--------";
            var attributes = string.Join(" ", r.AttributesOrEmpty.Where(a => a.Key is not (LogAttributes.MessageId)).Select(a => $"{a.Key}={a.Value}"));
            Write(colour, NodeColours[(r.Node.Value - 1) % NodeColours.Length], $"{wall} node {r.Node.Value} ");
            Write(colour, ConsoleColor.DarkGray, $"hlc {r.Hlc.WallMs}.{r.Hlc.Logical,-3} lamport {r.Lamport,-6} ");
            Write(colour, r.Severity switch { >= Severity.Error => ConsoleColor.Red, Severity.Warn => ConsoleColor.Yellow, Severity.Debug or Severity.Trace => ConsoleColor.DarkGray, _ => ConsoleColor.White },
                $"{SeverityText.Of(r.Severity),-5} ");
            Write(colour, ConsoleColor.DarkCyan, $"{trace} ");
            Write(colour, null, r.Body);
            if (attributes.Length > 0) Write(colour, ConsoleColor.DarkGray, "  " + attributes);
            if (misordered.Contains(r.Id)) Write(colour, ConsoleColor.Red, $"  <- shown before its send ({kind} order)");
            Console.WriteLine();
        }
    }

    private static void Write(bool colour, ConsoleColor? foreground, string text)
    {
        if (colour && foreground is { } c) Console.ForegroundColor = c;
        Console.Write(text);
        if (colour && foreground is not null) Console.ResetColor();
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys replicas [--watch]`: the leader's view of replication lag (its <c>/status.replication</c>), one row per
/// follower, like PostgreSQL's pg_stat_replication.
/// </summary>
internal static class ReplicasCommand
{
    public static Command Create()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        var watch = new Option<bool>("--watch") { Description = "Refresh the table until Ctrl+C" };
        var intervalMs = new Option<int>("--interval-ms") { Description = "Refresh period with --watch (100..60000)", DefaultValueFactory = _ => 1000 };
        intervalMs.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int>();
            if (v is < 100 or > 60_000) r.AddError($"--interval-ms must be between 100 and 60000, was {v}");
        });
        var command = new Command("replicas", "Show replication lag per follower as the Raft leader sees it (entries and ms, write and apply)")
        {
            node, httpBasePort, watch, intervalMs,
        };
        command.SetAction(async (p, ct) =>
        {
            var basePort = p.GetValue(httpBasePort);
            do
            {
                var text = await RenderOnceAsync(p.GetValue(node), basePort, ct);
                if (p.GetValue(watch))
                {
                    if (!Console.IsOutputRedirected) Console.Clear();
                    Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] every {p.GetValue(intervalMs)} ms, Ctrl+C stops");
                }
                Console.Write(text);
                if (!p.GetValue(watch)) return 0;
                try { await Task.Delay(p.GetValue(intervalMs), ct); }
                catch (OperationCanceledException) { return 0; }
            } while (!ct.IsCancellationRequested);
            return 0;
        });
        return command;
    }

    /// <summary>Asks the given node (or the first that answers); a follower's status names the leader, which is asked next.</summary>
    private static async Task<string> RenderOnceAsync(int? node, int basePort, CancellationToken ct)
    {
        var (client, status) = await CommonOptions.ConnectAsync(node, basePort, ct);
        client.Dispose();
        var asked = status.Replication ?? throw new CommandException($"node {status.NodeId} runs no Raft replica (no /status.replication)");
        var leaderView = asked;
        if (asked.Role != "Leader" && asked.LeaderId is { } leader)
        {
            try { leaderView = (await CommonOptions.ConnectAsync(leader, basePort, ct)).Status.Replication ?? asked; }
            catch (CommandException) { leaderView = asked; }
        }
        return Render(asked, leaderView);
    }

    /// <summary>The table: the leader's view of each follower, then the asked node's own line.</summary>
    public static string Render(ReplicationDto asked, ReplicationDto leader)
    {
        var sb = new StringBuilder();
        if (leader.Role != "Leader")
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"node {asked.NodeId} knows no reachable leader; its own view:");
        }
        else
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"replication as seen by the leader (node {leader.NodeId}), commit index {leader.CommitIndex}:");
            sb.AppendLine("NODE  ROLE     SENT     MATCH    APPLIED  LAG      LAG MS   WRITE LAG  WRITE MS  HEARD");
            foreach (var r in leader.Replicas)
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"{r.NodeId,-5} {(r.Voter ? "voter" : "learner"),-8} {r.SentIndex,-8} {r.MatchIndex,-8} {r.AppliedIndex,-8} {Opt(r.LagEntries),-8} {Opt(r.LagMs),-8} {Opt(r.WriteLagEntries),-10} {Opt(r.WriteLagMs),-9} {(r.LinkUp ? $"{r.HeardAgoMs} ms ago" : $"DOWN ({r.HeardAgoMs} ms)")}");
        }
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"node {asked.NodeId} ({asked.Role}): applied {asked.AppliedIndex} of commit {asked.CommitIndex}, own lag {(asked.LagMs is { } ms ? $"{ms} ms" : "unknown (no leader heard from)")}");
        return sb.ToString();
    }

    private static string Opt(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}

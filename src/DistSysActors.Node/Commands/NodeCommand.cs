using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Hosting;
using DistSysActors.Node.Hosting;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys node`: runs node I of N in the foreground.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var id = new Option<int>("--id") { Description = $"This node's id (1..nodes; with --join any id up to {NodeSettings.NodesMax})", Required = true };
        var join = new Option<bool>("--join")
        {
            Description = "Join a running cluster as a new server: Raft starts with no voters and waits for `distsys members add <id>`; Akka.Cluster joins through nodes 1..nodes",
        };
        var nodes = CommonOptions.NodeCount(1, NodeSettings.NodesMax);
        var basePort = CommonOptions.BasePort();
        var httpBasePort = CommonOptions.HttpBasePort();
        var dataDir = CommonOptions.DataDir();
        var set = new Option<string[]>("--set") { Description = "Override one configuration key, e.g. --set distsys.ping.interval-ms=500 (repeatable)", AllowMultipleArgumentsPerToken = false };
        var httpBind = new Option<string?>("--http-bind")
        {
            Description = "The address the HTTP API listens on (default 127.0.0.1; 0.0.0.0 for every interface): distsys.http.bind",
        };
        var addressing = NodeAddressOptions.Create();
        var command = new Command("node", "Run one node in the foreground: Akka.Cluster on 127.0.0.1:(base-port+id), HTTP on 127.0.0.1:(http-base-port+id), " +
                                          "or where --hostname, --port, --http-bind and --seed say (a cluster over several hosts)")
        {
            id, nodes, join, basePort, httpBasePort, dataDir, set, httpBind,
        };
        foreach (var option in addressing.All) command.Options.Add(option);
        command.SetAction((parse, ct) =>
        {
            var (i, n, b, h, d, s, j) = (parse.GetValue(id), parse.GetValue(nodes), parse.GetValue(basePort), parse.GetValue(httpBasePort),
                parse.GetValue(dataDir)!, parse.GetValue(set) ?? [], parse.GetValue(join));
            if (parse.GetValue(httpBind) is { } bind) s = [$"distsys.http.bind={bind}", .. s];
            s = [.. addressing.Sets(parse), .. s];
            // How to start this node again as a new server, should it refuse to start: its own arguments with --join, paths absolute.
            string[] rejoin = ["node", "--id", $"{i}", "--nodes", $"{n}", "--base-port", $"{b}", "--http-base-port", $"{h}",
                "--data-dir", Path.GetFullPath(d), .. s.SelectMany(x => new[] { "--set", x }), "--join"];
            return RunAsync(BuildConfig(i, n, b, h, d, s, j), rejoin, ct);
        });
        return command;
    }

    /// <summary>
    /// The lines a node prints when it refuses to start over lost Raft state: why, then the commands that bring it back
    /// as a new server (remove it while the cluster still counts it, start it with --join, add it: it catches up as a
    /// learner, then votes), each runnable as printed from any folder.
    /// </summary>
    public static IReadOnlyList<string> LostStateLines(int id, int httpBasePort, NodeHost.LostState lost, IReadOnlyList<string> rejoinArgs, bool acrossHosts = false)
    {
        // Membership changes go through a node of the running cluster: the new server itself knows no leader until added.
        // Across hosts the CLI is pointed at that node's HTTP address; on the port plan, at its id.
        string[] at = acrossHosts && lost.ViaHttp is { } url ? ["--endpoint", url] : ["--node", $"{lost.Via}", "--http-base-port", $"{httpBasePort}"];
        var lines = new List<string>
        {
            $"node {id}: refusing to start: {lost.Reason}.",
            $"node {id}: a Raft voter that forgot its vote and its log must not vote again: it could vote twice in one term, or help elect a leader that lacks acknowledged writes.",
            $"node {id}: if its data is elsewhere, start it with that --data-dir. If the data is lost, bring node {id} back as a new server:",
        };
        if (lost.StillMember) lines.Add("  " + ShellCommand.Self(["members", "remove", $"{id}", .. at]));
        lines.Add("  " + ShellCommand.Self(rejoinArgs));
        lines.Add("  " + ShellCommand.Self(["members", "add", $"{id}", .. at]));
        lines.Add($"node {id}: (the second command keeps running: run the last one in another terminal once it has started)");
        return lines;
    }

    /// <summary>The node's distsys.* configuration: command-line values, then --set overrides (each checked against the reference).</summary>
    public static Config BuildConfig(int id, int nodes, int basePort, int httpBasePort, string dataDir, IReadOnlyList<string> sets, bool join = false)
    {
        if (join && !NodeSettings.InPortPlan(id)) throw new CommandException($"--id must be between 1 and {NodeSettings.NodesMax} with --join, was {id}");
        if (!join && (id < 1 || id > nodes))
            throw new CommandException(id > nodes
                ? $"--id must be between 1 and --nodes ({nodes}), was {id}; a new server joining a running cluster needs --join"
                : $"--id must be between 1 and --nodes ({nodes}), was {id}");
        var config = ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $"""
            distsys.node.id = {id}
            distsys.node.nodes = {nodes}
            distsys.node.join = {(join ? "on" : "off")}
            distsys.node.base-port = {basePort}
            distsys.node.http-base-port = {httpBasePort}
            distsys.node.data-dir = "{dataDir.Replace("\\", "\\\\").Replace("\"", "\\\"")}"
            """));
        foreach (var s in sets)
        {
            var eq = s.IndexOf('=');
            if (eq <= 0) throw new CommandException($"--set expects key=value, got '{s}'");
            var key = s[..eq].Trim();
            var value = s[(eq + 1)..].Trim();
            if (key.StartsWith("distsys.", StringComparison.Ordinal) && !DistSysConfig.IsKnownKey(key))
                throw new CommandException($"--set: unknown configuration key '{key}' (see hocon/distsys.reference.conf)");
            if (!key.StartsWith("distsys.", StringComparison.Ordinal) && !key.StartsWith("akka.", StringComparison.Ordinal))
                throw new CommandException($"--set: unknown configuration key '{key}' (keys start with distsys. or akka.)");
            Config one;
            try { one = ConfigurationFactory.ParseString($"{key} = {value}"); }
            catch (Exception) { one = ConfigurationFactory.ParseString($"{key} = \"{value.Replace("\\", "\\\\").Replace("\"", "\\\"")}\""); }
            config = one.WithFallback(config);
        }
        // Read every settings section once now, so a bad value fails in one line before anything starts.
        try
        {
            DistSysNodeRuntime.ValidateSettings(config);
            Http.HttpSettings.Create(config.WithFallback(DistSysConfig.Reference));
        }
        catch (ConfigurationException e) { throw new CommandException(e.Message); }
        return config;
    }

    private static async Task<int> RunAsync(Config config, IReadOnlyList<string> rejoinArgs, CancellationToken ct)
    {
        var host = new NodeHost(config);
        if (await host.CheckForLostStateAsync() is { } lost)
        {
            foreach (var line in LostStateLines(host.Node.Id, host.Node.HttpBasePort, lost, rejoinArgs, host.Node.UsesSeeds)) await Console.Error.WriteLineAsync(line);
            return 1;
        }
        try { host.Start(); }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"node {host.Node.Id}: failed to start: {e.GetBaseException().Message}");
            return 1;
        }
        var app = NodeHttpApi.Build(host);
        var stop = new TaskCompletionSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        using var reg = ct.Register(() => stop.TrySetResult());
        try
        {
            await app.StartAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"node {host.Node.Id}: HTTP failed to start on port {host.Node.SelfHttpPort}: {e.GetBaseException().Message}");
            await host.DisposeAsync();
            return 1;
        }
        var http = host.HttpSettings;
        Console.WriteLine($"node {host.Node.Id} {(host.Node.Join ? $"joining the cluster of nodes 1..{host.Node.Nodes} (Raft waits to be added)" : $"of {host.Node.Nodes}")}: " +
                          $"remoting {host.Node.Hostname}:{host.Node.SelfRemotePort}{(host.Node.PublicHostname.Length > 0 ? $" (reached as {host.Node.PublicHostname})" : "")}, " +
                          $"HTTP http://{http.Bind}:{host.Node.SelfHttpPort}, data {Path.GetFullPath(host.Node.NodeDataDir)}");
        // SIGTERM reaches Akka's own hook too, which may start the shutdown first; either way the hand-off of Raft
        // leadership is the first task of CoordinatedShutdown (NodeHost), and the process ends with its actor system.
        var ended = await Task.WhenAny(stop.Task, host.Stopped);
        var exitCode = 0;
        if (ended == host.Stopped && !stop.Task.IsCompleted)
        {
            var cause = await host.Stopped;
            await Console.Error.WriteLineAsync($"node {host.Node.Id}: {cause.Message}; exiting");
            if (!cause.Requested) exitCode = 1;
        }
        await host.DisposeAsync();
        await app.StopAsync(CancellationToken.None);
        return exitCode;
    }
}

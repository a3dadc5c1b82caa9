using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Akka's Cluster Singleton on three real processes, where it is safe and where it is not. Safe: kill -9 of its host
/// moves it only after the Split Brain Resolver has downed the dead node (the 2|1 partition is in
/// <see cref="ElectionProcessTests"/>). Not safe: its host paused (SIGSTOP) past the resolver's stable-after is downed
/// by the majority, which starts a second instance, while the paused one, resumed, runs on until it learns it was
/// downed: both write the shared ledger at once. Each test undoes what it breaks (a killed node is restarted, a paused
/// one rejoins by itself), so it runs on the shared cluster.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class SingletonProcessTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private static readonly int[] All = [1, 2, 3];

    private ProcessCluster Cluster => fixture.Cluster;

    /// <summary>Node <paramref name="node"/>'s /status, or null when it does not answer within <paramref name="timeout"/> (paused, restarting).</summary>
    internal static async Task<JsonNode?> StatusAsync(ProcessCluster cluster, int node, TimeSpan? timeout = null)
    {
        using var client = new Node.Client.NodeClient(node, cluster.HttpBasePort + node, timeout: timeout ?? TimeSpan.FromSeconds(3));
        try
        {
            var (code, body) = await client.SendAsync(HttpMethod.Get, "/status");
            return code == 200 ? JsonNode.Parse(body) : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException) { return null; }
    }

    internal static JsonNode? Akka(JsonNode? status) => status?["election"]?["akka"];

    /// <summary>How <paramref name="status"/>'s node sees member <paramref name="id"/>: its status, or "absent" once removed.</summary>
    internal static string MemberStatus(JsonNode? status, int id) =>
        status?["members"] is JsonArray members && members.FirstOrDefault(m => m?["nodeId"]?.GetValue<int?>() == id) is { } m
            ? m["status"]!.GetValue<string>() : "absent";

    /// <summary>Waits until every node reaches the singleton on the same host, which says it hosts it; returns the host and its incarnation.</summary>
    internal static async Task<(int Host, string Incarnation)> SettledSingletonAsync(ProcessCluster cluster)
    {
        (int, string) found = default;
        await cluster.AwaitAsync(async () =>
        {
            var statuses = await Task.WhenAll(All.Select(id => StatusAsync(cluster, id)));
            var hosts = statuses.Select(s => Akka(s)?["singletonNodeId"]?.GetValue<int?>()).Distinct().ToArray();
            if (hosts is not [{ } host] || Akka(statuses[host - 1]) is not { } a || a["singletonInstances"]!.GetValue<int>() != 1) return false;
            if (statuses.Count(s => Akka(s)?["singletonInstances"]?.GetValue<int>() == 1) != 1) return false;
            found = (host, a["localSingletonIncarnation"]!.GetValue<string>());
            return true;
        }, TimeSpan.FromSeconds(60), "every node reaches one singleton, on the node that says it hosts it");
        return found;
    }

    [Fact]
    public async Task Kill_9_of_the_singletons_host_moves_it_only_after_the_split_brain_resolver_has_downed_the_dead_node()
    {
        await fixture.EnsureRunningAsync();
        var (host, incarnation) = await SettledSingletonAsync(Cluster);
        var survivors = All.Where(id => id != host).ToArray();
        var ledger = new SingletonLedger(Cluster);
        var from = ledger.Incarnations().Count;
        output.WriteLine($"singleton {incarnation} on node {host}; kill -9 node {host}");
        try
        {
            var watch = Stopwatch.StartNew();
            Cluster.Kill(host);
            double? downedMs = null;
            (int Node, string Incarnation, double Ms)? moved = null;
            await Cluster.AwaitAsync(async () =>
            {
                foreach (var id in survivors)
                {
                    var status = await StatusAsync(Cluster, id);
                    if (status is null) continue;
                    var seen = MemberStatus(status, host);
                    var downed = seen is "Down" or "Removed" or "absent";
                    if (downed) downedMs ??= watch.Elapsed.TotalMilliseconds;
                    if (Akka(status)!["singletonInstances"]!.GetValue<int>() != 1) continue;
                    // The point: a second instance never starts while the survivors could still take the old host for alive.
                    Assert.True(downed, $"node {id} started a singleton while it still saw node {host} as {seen}");
                    moved = (id, Akka(status)!["localSingletonIncarnation"]!.GetValue<string>(), watch.Elapsed.TotalMilliseconds);
                    return true;
                }
                return false;
            }, TimeSpan.FromSeconds(90), $"a survivor hosts the singleton after node {host} was killed");
            output.WriteLine($"node {host} downed after ~{downedMs:0} ms; singleton {moved!.Value.Incarnation} on node {moved.Value.Node} after {moved.Value.Ms:0} ms");
            Assert.NotEqual(incarnation, moved.Value.Incarnation);
            Assert.Contains(moved.Value.Node, survivors);
            Assert.False(SingletonLedger.AnyOverlap(ledger.Incarnations(), from), "two singleton instances wrote the ledger at once");
        }
        finally
        {
            Cluster.RestartExited();
        }
    }

    [Fact]
    public async Task A_host_paused_past_stable_after_is_downed_and_replaced_while_it_still_runs_its_instance_two_at_once_until_it_learns()
    {
        await fixture.EnsureRunningAsync();
        var (host, incarnation) = await SettledSingletonAsync(Cluster);
        var survivors = All.Where(id => id != host).ToArray();
        var ledger = new SingletonLedger(Cluster);
        output.WriteLine($"singleton {incarnation} on node {host}; SIGSTOP node {host}");
        Cluster.Pause(host); // frozen with its instance running, as a long GC pause would leave it
        try
        {
            var watch = Stopwatch.StartNew();
            (int Node, string Incarnation) replacement = (0, "");
            await Cluster.AwaitAsync(async () =>
            {
                foreach (var id in survivors)
                    if (Akka(await StatusAsync(Cluster, id)) is { } a && a["singletonInstances"]!.GetValue<int>() == 1)
                    {
                        replacement = (id, a["localSingletonIncarnation"]!.GetValue<string>());
                        return true;
                    }
                return false;
            }, TimeSpan.FromSeconds(90), $"the majority downs paused node {host} and starts a second singleton");
            output.WriteLine($"second instance {replacement.Incarnation} on node {replacement.Node} {watch.ElapsedMilliseconds} ms after the pause");
            Assert.NotEqual(incarnation, replacement.Incarnation);

            // Asked while still paused: the paused node answers as soon as it runs again, before it can have heard anything.
            var pausedView = StatusAsync(Cluster, host, TimeSpan.FromSeconds(30));
            var resumed = Stopwatch.StartNew();
            Cluster.Resume(host);
            var (old, current) = (Akka(await pausedView), Akka(await StatusAsync(Cluster, replacement.Node)));
            output.WriteLine($"just after SIGCONT: node {host} hosts {old?["singletonInstances"]} ({old?["localSingletonIncarnation"]}), " +
                $"node {replacement.Node} hosts {current?["singletonInstances"]} ({current?["localSingletonIncarnation"]})");

            // The shared ledger shows it for certain: the resumed instance writes after the second one began.
            await Cluster.AwaitAsync(() => Task.FromResult(SingletonLedger.Overlap(ledger.Incarnations(), incarnation, replacement.Incarnation)),
                TimeSpan.FromSeconds(30), $"the resumed instance {incarnation} writes the ledger after {replacement.Incarnation} began");
            await Cluster.AwaitAsync(async () => Akka(await StatusAsync(Cluster, host))?["localSingletonIncarnation"]?.GetValue<string>() != incarnation,
                TimeSpan.FromSeconds(60), $"node {host} learns it was downed and stops its instance");
            output.WriteLine($"node {host} stopped its instance within {resumed.ElapsedMilliseconds} ms of SIGCONT");
        }
        finally
        {
            Cluster.Resume(host);
        }
    }
}

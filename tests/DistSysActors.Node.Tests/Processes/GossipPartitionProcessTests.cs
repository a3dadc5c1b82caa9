using System.Diagnostics;
using System.Text.Json;
using DistSysActors.Node.Http;
using DistSysActors.Simulation.Checkers;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>CP vs AP on the shared five processes (README: CP vs AP): a 3|2 partition with writes on both sides, then the heal.</summary>
public sealed partial class GossipProcessTests
{
    private static readonly int[] Majority = [1, 2, 3], Minority = [4, 5];

    [Fact]
    public async Task Across_a_3_2_partition_both_sides_accept_ap_writes_the_raft_minority_refuses_and_after_the_heal_every_node_agrees()
    {
        await fixture.EnsureRunningAsync();
        var clock = Stopwatch.StartNew();
        var history = new List<KvOperation>();
        var writes = new Dictionary<string, List<(string Value, string Hlc)>>();
        var availability = new Dictionary<string, (int Asked, int Accepted)> { ["ap majority"] = (0, 0), ["ap minority"] = (0, 0), ["kv majority"] = (0, 0), ["kv minority"] = (0, 0) };

        async Task WriteApAsync(int node, string key, string value)
        {
            var side = Majority.Contains(node) ? "ap majority" : "ap minority";
            var (code, _, hlc) = await SendAsync(node, HttpMethod.Put, $"/ap/{key}", value);
            availability[side] = (availability[side].Asked + 1, availability[side].Accepted + (code == 200 ? 1 : 0));
            Assert.True(code == 200, $"PUT /ap/{key} on node {node}: {code}");
            (writes.TryGetValue(key, out var list) ? list : writes[key] = []).Add((value, hlc!));
        }

        // /kv writes go into a history for the linearizability checker: a certain refusal is no operation at all; an
        // unknown outcome may or may not have taken effect.
        async Task<int> WriteKvAsync(int node, string key, string value)
        {
            var side = Majority.Contains(node) ? "kv majority" : "kv minority";
            var callMs = clock.ElapsedMilliseconds;
            int code; string body;
            try { (code, body, _) = await SendAsync(node, HttpMethod.Put, $"/kv/{key}", value); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { (code, body) = (0, ""); }
            availability[side] = (availability[side].Asked + 1, availability[side].Accepted + (code == 200 ? 1 : 0));
            if (code == 200) history.Add(new KvOperation(node, KvInput.Put(key, value), callMs, clock.ElapsedMilliseconds, KvOutput.Ack));
            else if (!(code == 503 && body.Contains("\"not-applied\""))) history.Add(KvOperation.Unknown(node, KvInput.Put(key, value), callMs));
            output.WriteLine($"t={clock.ElapsedMilliseconds} ms PUT /kv/{key}={value} on node {node}: {code} {body}");
            return code;
        }

        // A read refused as not-applied (no leader could confirm it: a leadership change under way) had no effect and is
        // asked again, as a client would, for a few seconds; only the answered read enters the history.
        async Task ReadKvAsync(int node, string key)
        {
            (int Code, string Body, long CallMs) answer = default;
            await Cluster.AwaitAsync(async () =>
            {
                var callMs = clock.ElapsedMilliseconds;
                var (code, body, _) = await SendAsync(node, HttpMethod.Get, $"/kv/{key}");
                answer = (code, body, callMs);
                return !(code == 503 && body.Contains("\"not-applied\""));
            }, TimeSpan.FromSeconds(10), $"GET /kv/{key} on node {node} answered, not refused as not-applied");
            var (code, body, callMs) = answer;
            Assert.True(code is 200 or 404, $"GET /kv/{key} on node {node}: {code} {body}");
            history.Add(new KvOperation(node, KvInput.Get(key), callMs, clock.ElapsedMilliseconds, KvOutput.Read(code == 200 ? body : null)));
        }

        Assert.Equal(200, await WriteKvAsync(1, "cap-kv", "before"));
        var partition = new FaultSpecDto([[.. Majority], [.. Minority]], 0, [0, 0], 0, false, null);
        foreach (var n in All)
        {
            using var client = Cluster.Client(n);
            Assert.True((await client.PostFaultsAsync(partition)).IsSuccessStatusCode);
        }
        var cutAt = Stopwatch.StartNew();
        // At once, before anyone notices the cut: both sides accept the same /ap keys. The minority's are on its disk
        // only, and its actor system is about to be downed and restarted.
        for (var i = 0; i < 3; i++)
        {
            await WriteApAsync(1, $"cap-early-{i}", $"majority-early-{i}");
            await WriteApAsync(4, $"cap-early-{i}", $"minority-early-{i}");
        }

        // SWIM on the majority declares 4 and 5 dead; Akka's Split Brain Resolver downs them (they restart and wait to rejoin).
        await Cluster.AwaitAsync(async () => GossipState(await StatusAsync(1), 5) == "dead", TimeSpan.FromSeconds(90), "node 1's SWIM view has node 5 dead");
        var swimDeadMs = cutAt.ElapsedMilliseconds;
        await Cluster.AwaitAsync(async () => !(await StatusAsync(1)).GetProperty("members").EnumerateArray().Any(m => m.GetProperty("nodeId").GetInt32() == 5),
            TimeSpan.FromSeconds(90), "Akka.Cluster on node 1 has removed node 5 (downed by the Split Brain Resolver)");
        var downedMs = cutAt.ElapsedMilliseconds;
        await Cluster.AwaitAsync(async () => { try { return (await StatusAsync(4)).TryGetProperty("gossip", out var g) && g.ValueKind == JsonValueKind.Object; } catch (HttpRequestException) { return false; } },
            TimeSpan.FromSeconds(90), "node 4 serves /status again after its actor system restarted");
        // Node 4's restarted actor system recovers what it accepted before (the cause of the old failure: an in-memory
        // replica) from its journal; until the recovery is done its AP store answers 503.
        await Cluster.AwaitAsync(async () => (await SendAsync(4, HttpMethod.Get, "/ap/cap-early-0")).Body == "minority-early-0",
            TimeSpan.FromSeconds(60), "node 4's recovered AP replica answers its own early write");

        // The same keys written on both sides: /ap accepts everywhere, /kv only where Raft has a quorum.
        for (var i = 0; i < 3; i++)
        {
            await WriteApAsync(1, $"cap-{i}", $"majority-{i}");
            await WriteApAsync(4, $"cap-{i}", $"minority-{i}");
        }
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(200, await WriteKvAsync(Majority[i], "cap-kv", $"majority-{i}"));
            var minorityCode = await WriteKvAsync(Minority[i], "cap-kv", $"minority-{i}");
            Assert.Equal(503, minorityCode);
            await ReadKvAsync(Majority[i + 1], "cap-kv");
        }
        // Each side converges on its own writes while cut off (stale, but available).
        var staleWatch = Stopwatch.StartNew();
        await AwaitEveryNodeAsync("cap-2", 200, "majority-2", Majority, TimeSpan.FromSeconds(30));
        await AwaitEveryNodeAsync("cap-2", 200, "minority-2", Minority, TimeSpan.FromSeconds(30));
        var sideConvergedMs = staleWatch.ElapsedMilliseconds;

        await Cluster.HealAllAsync();
        var healed = Stopwatch.StartNew();
        foreach (var (key, candidates) in writes.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            // Last writer wins: the greater (HLC, writer) of the two writes, the same on every node.
            var winner = candidates.MaxBy(c => Version(c.Hlc))!;
            await AwaitEveryNodeAsync(key, 200, winner.Value, All, TimeSpan.FromSeconds(60));
            output.WriteLine($"{key}: {string.Join(" vs ", candidates.Select(c => $"{c.Value}@{c.Hlc}"))} -> {winner.Value}");
        }
        var convergedMs = healed.ElapsedMilliseconds;

        await fixture.EnsureRunningAsync();
        var rejoinedMs = healed.ElapsedMilliseconds;
        foreach (var n in All) await ReadKvAsync(n, "cap-kv");
        var result = LinearizabilityChecker.Check(history);
        output.WriteLine($"/kv history of {history.Count} operations: {result.Outcome}");
        Assert.True(result.Ok, $"not linearizable: key {result.Key}: {result.Explanation}");
        Assert.Equal("majority-1", (await SendAsync(5, HttpMethod.Get, "/kv/cap-kv")).Body);
        output.WriteLine(string.Join("; ", availability.Select(a => $"{a.Key}: {a.Value.Accepted}/{a.Value.Asked} accepted")));
        output.WriteLine($"each side converged on its own /ap writes {sideConvergedMs} ms after the last; SWIM declared node 5 dead {swimDeadMs} ms after the cut; " +
                         $"Akka removed it {downedMs} ms after; /ap converged {convergedMs} ms after the heal; every node ready {rejoinedMs} ms after the heal");
    }
}

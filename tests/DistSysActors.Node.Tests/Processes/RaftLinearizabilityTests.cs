using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DistSysActors.Node.Http;
using DistSysActors.Simulation.Checkers;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Five real `distsys node` processes; concurrent HTTP clients on a few keys while nodes (the leader included) are
/// killed with SIGKILL and restarted, and the cluster is partitioned and healed. The recorded history must be
/// linearizable, and every node must end with the same state. Run on each consensus engine behind /kv: Raft and Multi-Paxos.
/// </summary>
public sealed class RaftLinearizabilityTests(ITestOutputHelper output)
{
    private static readonly string[] Keys = ["a", "b", "c"];
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData("raft")]
    [InlineData("paxos")]
    public async Task Kv_history_under_crashes_and_partitions_is_linearizable_and_loses_no_acknowledged_write(string consensus)
    {
        using var cluster = new ProcessCluster(5) { NodeArgs = ["--set", $"distsys.kv.consensus={consensus}"] };
        cluster.StartAll();
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "all five nodes are ready");

        var recorder = new History();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var counts = new int[4];
        var clients = Enumerable.Range(1, 4).Select(c => Task.Run(() => ClientAsync(c, cluster, recorder, clock, counts, stop.Token))).ToList();

        // The nemesis, paced by the clients' progress (attempts made) rather than by wall time, so a slow machine
        // still sees traffic in every phase: crash the leader and restart it; cut two nodes off and heal; crash a
        // follower and restart it.
        var mark = 0;
        Task Progress(int attempts) => cluster.AwaitAsync(() => Task.FromResult(counts.Sum() >= Volatile.Read(ref mark) + attempts),
            TimeSpan.FromSeconds(90), $"the clients made {attempts} more attempts");
        void Mark(string what) { mark = counts.Sum(); output.WriteLine($"t={clock.ElapsedMilliseconds} ms, {mark} attempts: {what}"); }

        await Progress(30);
        var leader = await cluster.LeaderAsync();
        cluster.Kill(leader);
        Mark($"kill -9 leader {leader}");
        await Progress(30);
        cluster.Start(leader);
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "the old leader is back and every node ready");
        Mark($"restarted node {leader}; all ready");
        await Progress(30);
        var minority = new[] { leader, leader % 5 + 1 };
        var majority = Enumerable.Range(1, 5).Except(minority).ToArray();
        await FaultsAsync(cluster, new { partitions = new[] { minority, majority } });
        Mark($"partition {string.Join(",", minority)}/{string.Join(",", majority)}");
        await Progress(120);
        await HealAsync(cluster);
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "every node ready after the heal");
        Mark("healed; all ready");
        await Progress(30);
        var currentLeader = await cluster.LeaderAsync();
        var follower = Enumerable.Range(1, 5).First(i => i != currentLeader);
        cluster.Kill(follower);
        Mark($"kill -9 follower {follower}");
        await Progress(30);
        cluster.Start(follower);
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "the follower is back and every node ready");
        Mark($"restarted node {follower}; all ready");
        await Progress(30);
        stop.Cancel();
        await Task.WhenAll(clients);
        output.WriteLine($"t={clock.ElapsedMilliseconds} ms: clients stopped; ok {counts[0]}, not applied {counts[1]}, unknown {counts[2]}, failed reads {counts[3]}");

        // Settle, then read every key once more (linearizable) as part of the history.
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "all five nodes are ready again");
        var final = new Dictionary<string, string?>();
        foreach (var key in Keys)
        {
            using var c = cluster.Client(1);
            var callMs = clock.ElapsedMilliseconds;
            var (code, body) = await c.SendAsync(HttpMethod.Get, $"/kv/{key}");
            Assert.True(code is 200 or 404, $"final read of {key}: {code} {body}");
            final[key] = code == 200 ? body : null;
            recorder.Add(new KvOperation(99, KvInput.Get(key), callMs, clock.ElapsedMilliseconds, KvOutput.Read(final[key])));
        }

        var result = LinearizabilityChecker.Check(recorder.Operations);
        output.WriteLine($"history of {recorder.Count} operations: {result.Outcome} after {result.Steps} steps");
        Assert.True(result.Ok, $"not linearizable: key {result.Key}: {result.Explanation}");
        Assert.True(counts[0] > 50, $"too few successful operations ({counts[0]}) for the check to mean much");

        // Every node converges on the same state (stale reads see each replica's own applied state).
        await cluster.AwaitAsync(async () =>
        {
            for (var id = 1; id <= 5; id++)
            {
                using var c = cluster.Client(id);
                foreach (var key in Keys)
                {
                    var (code, body) = await c.SendAsync(HttpMethod.Get, $"/kv/{key}?consistency=stale");
                    if ((code == 200 ? body : null) != final[key]) return false;
                }
            }
            return true;
        }, TimeSpan.FromSeconds(30), "every replica applied the same final state");
    }

    private static async Task ClientAsync(int clientId, ProcessCluster cluster, History recorder, Stopwatch clock, int[] counts, CancellationToken stop)
    {
        var random = new Random(clientId);
        using var http = new HttpClient { Timeout = ClientTimeout };
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            var node = random.Next(1, 6);
            var key = Keys[random.Next(Keys.Length)];
            var value = $"c{clientId}-{++n}";
            var baseUri = $"http://127.0.0.1:{cluster.HttpBasePort + node}/kv/{key}";
            var roll = random.NextDouble();
            KvInput input;
            HttpRequestMessage request;
            if (roll < 0.4) { input = KvInput.Get(key); request = new HttpRequestMessage(HttpMethod.Get, baseUri); }
            else if (roll < 0.75) { input = KvInput.Put(key, value); request = new HttpRequestMessage(HttpMethod.Put, baseUri) { Content = new StringContent(value) }; }
            else if (roll < 0.8) { input = KvInput.Delete(key); request = new HttpRequestMessage(HttpMethod.Delete, baseUri); }
            else
            {
                // Expect what this client last read or wrote is unknown here; alternate between absent and a recent value.
                string? expected = random.Next(2) == 0 ? null : $"c{clientId}-{Math.Max(1, n - 1)}";
                input = KvInput.Cas(key, expected, value);
                request = new HttpRequestMessage(HttpMethod.Post, baseUri + "/cas") { Content = JsonContent.Create(new { expected, value }) };
            }
            var callMs = clock.ElapsedMilliseconds;
            void Done(KvOutput output) { recorder.Add(new KvOperation(clientId, input, callMs, clock.ElapsedMilliseconds, output)); Interlocked.Increment(ref counts[0]); }
            // A write whose outcome is unknown is retried under the same Idempotency-Key (up to twice, to other
            // nodes): all its attempts are ONE operation, from the first call to the last return.
            var idempotencyKey = input.Kind == KvOperationKind.Get ? null : $"client{clientId}-op{n}";
            var attempts = input.Kind == KvOperationKind.Get ? 1 : 3;
            var settled = false;
            for (var attempt = 0; attempt < attempts && !settled; attempt++)
            {
                var target = (node + attempt - 1) % 5 + 1;
                var uri = request.RequestUri!.ToString().Replace($":{cluster.HttpBasePort + node}/", $":{cluster.HttpBasePort + target}/");
                using var send = new HttpRequestMessage(request.Method, uri) { Content = request.Content is null ? null : new StringContent(await request.Content.ReadAsStringAsync()) };
                if (idempotencyKey is not null) send.Headers.Add("Idempotency-Key", idempotencyKey);
                try
                {
                    using var response = await http.SendAsync(send, CancellationToken.None);
                    var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                    settled = true;
                    switch ((int)response.StatusCode, input.Kind)
                    {
                        case (200, KvOperationKind.Get): Done(KvOutput.Read(body)); break;
                        case (404, KvOperationKind.Get): Done(KvOutput.Read(null)); break;
                        case (200, KvOperationKind.Cas): Done(KvOutput.SwappedOk); break;
                        case (409, KvOperationKind.Cas):
                            var current = JsonDocument.Parse(body).RootElement.GetProperty("current");
                            Done(KvOutput.NotSwapped(current.ValueKind == JsonValueKind.Null ? null : current.GetString()));
                            break;
                        case (200, _): Done(KvOutput.Ack); break;
                        case (503, KvOperationKind.Get):
                            Interlocked.Increment(ref counts[3]); // a read that failed had no effect: not part of the history
                            break;
                        case (503, _) when body.Contains("\"not-applied\"") && attempt == 0:
                            Interlocked.Increment(ref counts[1]); // certainly never applied: not an operation at all
                            break;
                        default:
                            settled = false; // unknown: retry under the same key
                            break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    if (input.Kind == KvOperationKind.Get) { Interlocked.Increment(ref counts[3]); settled = true; }
                }
            }
            if (!settled)
            {
                recorder.Add(KvOperation.Unknown(clientId, input, callMs)); // may or may not have taken effect
                Interlocked.Increment(ref counts[2]);
            }
        }
    }

    private sealed class History
    {
        private readonly List<KvOperation> _operations = new();
        public void Add(KvOperation op) { lock (_operations) _operations.Add(op); }
        public int Count { get { lock (_operations) return _operations.Count; } }
        public IReadOnlyList<KvOperation> Operations { get { lock (_operations) return _operations.ToList(); } }
    }

    private static async Task FaultsAsync(ProcessCluster cluster, object spec)
    {
        for (var id = 1; id <= cluster.Nodes; id++)
        {
            using var http = new HttpClient { BaseAddress = cluster.Client(id).BaseAddress };
            using var response = await http.PostAsJsonAsync("/admin/faults", spec);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static async Task HealAsync(ProcessCluster cluster)
    {
        for (var id = 1; id <= cluster.Nodes; id++)
        {
            using var http = new HttpClient { BaseAddress = cluster.Client(id).BaseAddress };
            using var response = await http.DeleteAsync("/admin/faults");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}

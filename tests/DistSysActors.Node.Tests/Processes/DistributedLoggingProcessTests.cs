using System.Net.Http.Json;
using System.Text.Json;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;
using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// One 3-process cluster whose wall clocks are skewed by -500, 0 and +500 ms, shared by every step of the distributed
/// logging checks: one PUT, written through a follower, has records on all three nodes sharing its trace id; the merged
/// view puts every receive after its send (by HLC, Lamport and vector clock) while wall-clock order does not; the
/// aggregator (node 1) killed with -9 loses nothing it stored or acknowledged, nor anything the others wrote meanwhile.
/// </summary>
public sealed class DistributedLoggingProcessTests(ITestOutputHelper output)
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static readonly Dictionary<int, long> SkewsMs = new() { [1] = -500, [2] = 0, [3] = 500 };
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string SecondTrace = "0af7651916cd43dd8448eb211c80319c";

    private static void StartNode(ProcessCluster cluster, int id) =>
        // Raw clocks up to 1 s apart: the HLC must accept remote stamps that far ahead before synchronization removes the skew.
        // Node 1 aggregates every node's records (shipped over reliable delivery); GET /logs asks every node while it is down.
        cluster.Start(id, "--set", $"distsys.clock.skew-ms={SkewsMs[id]}", "--set", "distsys.clock.hlc-max-offset-ms=2000",
            "--set", "distsys.logging.aggregator=1");

    [Fact]
    public async Task One_put_is_traced_across_three_skewed_nodes_in_causal_order_and_survives_a_kill()
    {
        using var cluster = new ProcessCluster(3);
        foreach (var id in SkewsMs.Keys) StartNode(cluster, id);
        try
        {
            await cluster.AwaitAsync(cluster.AllReadyAsync, TestTime.Scaled(TimeSpan.FromSeconds(90)), "every node is ready");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            string Url(int node, string path) => $"http://127.0.0.1:{cluster.HttpBasePort + node}{path}";

            // The PUT joins the caller's trace and answers with a traceparent of the same trace. It goes to a follower,
            // which hands it to the leader: the trace follows the command through that hop, the leader's entry, each
            // follower's copy and every node's apply.
            var leader = await cluster.LeaderAsync();
            var follower = SkewsMs.Keys.First(id => id != leader);
            using var put = new HttpRequestMessage(HttpMethod.Put, Url(follower, "/kv/traced")) { Content = new StringContent("v1") };
            put.Headers.Add("traceparent", $"00-{Trace}-00f067aa0ba902b7-01");
            using var answer = await http.SendAsync(put);
            Assert.Equal(200, (int)answer.StatusCode);
            Assert.Equal(Trace, TraceContext.TryParse(answer.Headers.GetValues("traceparent").Single())!.TraceId);
            // Every answer carries one, refusals included; a request without one starts a new trace.
            using var missing = await http.GetAsync(Url(1, "/no/such/path"));
            Assert.Equal(404, (int)missing.StatusCode);
            Assert.NotNull(TraceContext.TryParse(missing.Headers.GetValues("traceparent").Single()));

            // Asked on any node, the records of the trace come from all three nodes, in causal order.
            List<LogRecord> records = [];
            await cluster.AwaitAsync(async () =>
            {
                records = await LogsAsync(http, Url(1, $"/logs?trace={Trace}"));
                return records.Select(r => r.Node.Value).Distinct().Count() == 3
                    && records.Any(r => r.Attribute(LogAttributes.Event) == LogAttributes.ReceiveEvent)
                    && records.Where(r => r.Attribute(LogAttributes.Protocol) == "raft" && r.Body.StartsWith("applied entry", StringComparison.Ordinal)).Select(r => r.Node.Value).Distinct().Count() == 3;
            }, TestTime.Scaled(TimeSpan.FromSeconds(30)), "the trace's records from all three nodes");
            foreach (var r in records) output.WriteLine($"node {r.Node} hlc {r.Hlc} lamport {r.Lamport} wall {r.TimestampMs} {r.Body}");
            Assert.All(records, r => Assert.Equal(Trace, r.TraceId));
            Assert.Contains(records, r => r.Attribute(LogAttributes.Protocol) == "raft");
            // The follower's hand-off reached the leader under the trace.
            Assert.Contains(records, r => r.Node.Value == leader && r.Body == "raft: step Propose");
            Assert.Equal(records.Select(r => r.Id), LogOrder.Merge([records], LogOrderKind.Hlc).Select(r => r.Id));
            Assert.Empty(LogOrder.ReceivesBeforeSends(records));
            // Three nodes: every record carries the node's vector clock, and each receive's dominates its send's.
            Assert.All(records, r => Assert.NotNull(r.Vector));
            var sends = records.Where(r => r.Attribute(LogAttributes.Event) == LogAttributes.SendEvent).ToLookup(r => r.Attribute(LogAttributes.MessageId));
            var pairs = records.Where(r => r.Attribute(LogAttributes.Event) == LogAttributes.ReceiveEvent)
                .SelectMany(receive => sends[receive.Attribute(LogAttributes.MessageId)].Select(send => (send, receive))).ToList();
            Assert.NotEmpty(pairs);
            Assert.All(pairs, p => Assert.Equal(VectorOrder.Before, p.send.Vector!.Compare(p.receive.Vector!)));
            Assert.Empty(LogOrder.ReceivesBeforeSends(await LogsAsync(http, Url(3, $"/logs?trace={Trace}&order=lamport"))));
            // The same records by each node's wall clock put some receive before its send: the skew shows.
            Assert.NotEmpty(LogOrder.ReceivesBeforeSends(await LogsAsync(http, Url(2, $"/logs?trace={Trace}&order=wall"))));

            // The CLI shows the same: marks in wall order, none in HLC order.
            var (wallCode, wallOut) = await cluster.CliAsync("logs", "--trace", Trace, "--order", "wall");
            Assert.Equal(0, wallCode);
            Assert.Contains("shown before its send", wallOut);
            var (hlcCode, hlcOut) = await cluster.CliAsync("logs", "--trace", Trace);
            Assert.Equal(0, hlcCode);
            Assert.DoesNotContain("shown before its send", hlcOut);
            Assert.Contains("node 3", hlcOut);

            // Filters are checked: a bad one answers 400 naming it.
            using var bad = await http.GetAsync(Url(1, "/logs?severity=LOUD"));
            Assert.Equal(400, (int)bad.StatusCode);
            Assert.Contains("severity", await bad.Content.ReadAsStringAsync());

            // Node 3's records reach the aggregator and are acknowledged: counted as shipped, none dropped.
            await cluster.AwaitAsync(async () =>
            {
                using var client = cluster.Client(3);
                var status = JsonDocument.Parse((await client.SendAsync(HttpMethod.Get, "/status")).Body).RootElement.GetProperty("logging");
                return status.GetProperty("shipped").GetInt64() > 0 && status.GetProperty("dropped").GetInt64() == 0;
            }, TestTime.Scaled(TimeSpan.FromSeconds(30)), "node 3's shipped count");

            // kill -9 the aggregator (node 1), which also ships its own records into its aggregate store. The query on
            // another node asks every node instead and names the missing one; a write meanwhile leaves records on nodes 2
            // and 3 that wait in their outboxes.
            var ownBefore = (await LogsAsync(http, Url(1, "/logs?scope=local&node=1&limit=10000"))).Select(r => r.Id).ToHashSet();
            cluster.Kill(1);
            using (var partial = await http.GetAsync(Url(2, $"/logs?trace={Trace}")))
            {
                Assert.Equal(200, (int)partial.StatusCode);
                Assert.Equal("1", partial.Headers.GetValues(LogsHttpApi.MissingNodesHeader).Single());
            }
            await cluster.AwaitAsync(async () =>
            {
                using var second = new HttpRequestMessage(HttpMethod.Put, Url(2, "/kv/traced")) { Content = new StringContent("v2") };
                second.Headers.Add("traceparent", $"00-{SecondTrace}-00f067aa0ba902b7-01");
                try { return (await http.SendAsync(second)).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
            }, TestTime.Scaled(TimeSpan.FromSeconds(60)), "a write while the aggregator is down");
            var waiting = new HashSet<string>();
            foreach (var node in new[] { 2, 3 })
                waiting.UnionWith((await LogsAsync(http, Url(node, $"/logs?scope=local&trace={SecondTrace}"))).Select(r => r.Id));
            Assert.NotEmpty(waiting);

            // Once it is back: everything it had stored is still there, its own records written before the kill arrive,
            // and so do the records the other nodes wrote while it was down.
            StartNode(cluster, 1);
            var expected = records.Select(r => r.Id).Concat(ownBefore).Concat(waiting).ToHashSet();
            await cluster.AwaitAsync(async () =>
            {
                try
                {
                    var have = (await LogsAsync(http, Url(1, $"/logs?trace={Trace}&scope=aggregate")))
                        .Concat(await LogsAsync(http, Url(1, $"/logs?trace={SecondTrace}&scope=aggregate")))
                        .Concat(await LogsAsync(http, Url(1, "/logs?node=1&scope=aggregate&limit=10000"))).Select(r => r.Id).ToHashSet();
                    return have.IsSupersetOf(expected);
                }
                catch (HttpRequestException) { return false; }
            }, TestTime.Scaled(TimeSpan.FromSeconds(60)), "every record in the aggregate store after the aggregator's restart");
        }
        catch
        {
            for (var id = 1; id <= 3; id++) output.WriteLine($"--- node {id}\n{cluster.Logs(id)}");
            throw;
        }
    }

    private static async Task<List<LogRecord>> LogsAsync(HttpClient http, string url) =>
        (await http.GetFromJsonAsync<List<LogRecordDto>>(url, Json))!.Select(r => r.ToRecord()).ToList();
}

using System.Text.Json;
using DistSysActors.Core;
using DistSysActors.Core.Transactions;

namespace DistSysActors.Node.Tour;

/// <summary>
/// `distsys tour 2pc` (README "Watch 2PC block on a killed coordinator", "Watch 3PC go on"): a transfer between keys
/// owned by two participants, coordinated by a third node that is killed after the participants voted YES and before
/// its decision reached them. Under 2PC the participants block, holding their locks, until the coordinator restarts
/// and aborts (presumed abort); under 3PC they time out, run the termination protocol among themselves and abort
/// without it. Then 3PC under a partition: one participant commits, the other aborts. Each claim is read from the
/// participants' <c>/status.txn</c> and the keys' committed values.
/// </summary>
internal static class TransactionsTour
{
    private const int VoteDelayMs = 4000;
    private const int PreCommitDelayMs = 1800;

    public static async Task RunAsync(TourRun t)
    {
        if (t.Nodes < 3) throw new TourFailure("the tour needs 3 nodes: a coordinator and two participants");
        var partitioner = new TxnPartitioner(t.Ids.Select(i => new NodeId(i)));
        const int coordinator = 1;
        var (p1, p2) = (2, 3);
        var stamp = DateTime.UtcNow.ToString("HHmmss");
        var from = KeyOwnedBy(partitioner, $"tour-dave-{stamp}", p1);
        var to = KeyOwnedBy(partitioner, $"tour-alice-{stamp}", p2);

        await t.StepAsync($"{from}=100 (owned by node {p1}) and {to}=0 (owned by node {p2}), written in one 2PC transaction through node {coordinator}", async () =>
        {
            var (code, body) = await PostTxnAsync(t, coordinator, "2pc", [new { op = "put", key = from, value = "100" }, new { op = "put", key = to, value = "0" }]);
            return code == 200 ? $"200 {body}" : throw new TourFailure($"POST /txn answered {code}: {body}");
        });

        try
        {
            foreach (var protocol in new[] { "2pc", "3pc" }) await ProtocolAsync(t, protocol, coordinator, p1, p2, from, to);
            await DivergenceAsync(t, partitioner, coordinator, p1, p2, stamp);
        }
        finally
        {
            await t.HealQuietlyAsync(coordinator, p1, p2); // a failed step leaves no slowed or cut-off node behind
        }
    }

    /// <summary>
    /// README "Watch 3PC diverge under a partition": the coordinator's traffic slowed, so PreCommit follows the votes
    /// by <see cref="PreCommitDelayMs"/>; the second participant is cut off in between. The first pre-commits and commits,
    /// the second, uncertain and alone, terminates with abort: the debit happened, the credit never will. A run whose
    /// partition misses the window ends alike on both sides and is tried again on fresh keys (at most 3 times).
    /// </summary>
    private static async Task DivergenceAsync(TourRun t, TxnPartitioner partitioner, int coordinator, int p1, int p2, string stamp)
    {
        for (var attempt = 1; ; attempt++)
        {
            var from = KeyOwnedBy(partitioner, $"tour-div{attempt}-dave-{stamp}", p1);
            var to = KeyOwnedBy(partitioner, $"tour-div{attempt}-alice-{stamp}", p2);
            await t.StepAsync($"3pc under a partition (attempt {attempt}): {from}=100 on node {p1}, {to}=0 on node {p2}; slow node {coordinator}'s messages by {PreCommitDelayMs} ms", async () =>
            {
                // Node 1 has just restarted: its links to the participants may still be connecting, so a first try can time out.
                var (code, body) = (0, "");
                for (var i = 0; i < 10 && code != 200; i++)
                {
                    if (i > 0) await Task.Delay(1000);
                    (code, body) = await PostTxnAsync(t, coordinator, "2pc", [new { op = "put", key = from, value = "100" }, new { op = "put", key = to, value = "0" }]);
                }
                if (code != 200) throw new TourFailure($"POST /txn answered {code}: {body}");
                return await t.NodeFaultsAsync(coordinator, $"{{\"delayMs\": [{PreCommitDelayMs}, {PreCommitDelayMs}]}}");
            });
            var transfer = PostTxnAsync(t, coordinator, "3pc", [new { op = "add", key = from, delta = -30, min = 0 }, new { op = "add", key = to, delta = 30 }]);
            await t.ClaimRawAsync($"3pc: transfer 30 {from}→{to} through node {coordinator}; node {p2} prepared and voted YES", s =>
                (InDoubt(s[p2]).Any(d => d.State == "prepared"), Doubts(s)), $"node {p2} prepared");
            const string cut = "{\"partitions\": [[1, 2], [3]]}";
            await t.StepAsync($"3pc: partition {coordinator},{p1}/{p2} before node {p2}'s PreCommit arrives", async () =>
                $"{await t.NodeFaultsAsync(p2, cut)}; {await t.NodeFaultsAsync(coordinator, cut)}; {await t.NodeFaultsAsync(p1, cut)}");
            var (answer, answerBody) = await transfer;
            await t.ClaimRawAsync("3pc: each side terminates on its own: nobody is in doubt any more", s =>
                (s[p1] is not null && s[p2] is not null && InDoubt(s[p1]).Count == 0 && InDoubt(s[p2]).Count == 0, Doubts(s)), "0 in doubt", TimeSpan.FromSeconds(60));
            await t.StepAsync("heal every node (healing repairs nothing: each side keeps what it decided)", async () =>
                $"{await t.NodeFaultsAsync(coordinator, null)}; {await t.NodeFaultsAsync(p1, null)}; {await t.NodeFaultsAsync(p2, null)}");
            var (a, b) = (await ReadAsync(t, p1, from), await ReadAsync(t, p2, to));
            if (a == "70" && b == "0")
            {
                await t.StepAsync($"3pc diverged: {from} was debited on node {p1}'s side and {to} never credited on node {p2}'s; the client heard {answer}",
                    () => Task.FromResult($"{from}={a}, {to}={b}; the client's answer: {answer} {answerBody}"));
                return;
            }
            if ((a, b) is not (("100", "0") or ("70", "30"))) throw new TourFailure($"neither consistent nor the known divergence: {from}={a}, {to}={b}");
            if (attempt == 3) throw new TourFailure($"the partition never fell between node {p2}'s vote and its PreCommit in 3 attempts (last: {from}={a}, {to}={b}, consistent)");
            await t.StepAsync($"the partition missed the window (both sides agree: {from}={a}, {to}={b}); again on fresh keys", () => Task.FromResult("retrying"));
        }
    }

    private static async Task ProtocolAsync(TourRun t, string protocol, int coordinator, int p1, int p2, string from, string to)
    {
        await t.StepAsync($"{protocol}: slow every protocol message of nodes {p1} and {p2} by {VoteDelayMs} ms, so that their YES votes are still on the way when the coordinator dies",
            async () => $"{await t.NodeFaultsAsync(p1, $"{{\"delayMs\": [{VoteDelayMs}, {VoteDelayMs}]}}")}; {await t.NodeFaultsAsync(p2, $"{{\"delayMs\": [{VoteDelayMs}, {VoteDelayMs}]}}")}");

        var transfer = PostTxnAsync(t, coordinator, protocol, [new { op = "add", key = from, delta = -10, min = 0 }, new { op = "add", key = to, delta = 10 }]);

        await t.ClaimRawAsync($"{protocol}: transfer 10 {from}→{to} through node {coordinator}; both participants prepare (locks taken) and vote YES", s =>
            (InDoubt(s[p1]).Count == 1 && InDoubt(s[p2]).Count == 1, Doubts(s)), "both prepared, in doubt");

        await t.StepAsync($"{protocol}: kill -9 the coordinator, node {coordinator}, before their votes reach it", () => t.LauncherAsync(coordinator, "kill"));
        _ = transfer.ContinueWith(_ => { }, TaskScheduler.Default); // its client sees the connection drop
        await t.StepAsync($"{protocol}: heal nodes {p1} and {p2}'s links", async () => $"{await t.NodeFaultsAsync(p1, null)}; {await t.NodeFaultsAsync(p2, null)}");

        if (protocol == "2pc")
        {
            await t.StepAsync("2pc: the participants voted YES and cannot decide alone: they stay in doubt, locks held, while the coordinator is down", async () =>
            {
                var before = await t.RawStatusesAsync();
                await Task.Delay(TimeSpan.FromSeconds(4)); // an observation window: well past the decision timeout (1.5 s)
                var after = await t.RawStatusesAsync();
                if (InDoubt(after[p1]).Count != 1 || InDoubt(after[p2]).Count != 1) throw new TourFailure($"no longer in doubt: {Doubts(after)}");
                return $"still in doubt 4 s later: {Doubts(after)}";
            });
            await t.StepAsync($"2pc: another transfer through node {p1} needs {from}'s lock: it waits, then is refused (409)", async () =>
            {
                var (code, body) = await PostTxnAsync(t, p1, "2pc", [new { op = "add", key = from, delta = -1, min = 0 }, new { op = "add", key = to, delta = 1 }]);
                return code == 409 ? $"409 {body}" : throw new TourFailure($"answered {code}: {body} (expected 409: the lock is held)");
            });
            await t.StepAsync($"2pc: restart node {coordinator}: it finds BEGIN without a decision in its log and aborts (presumed abort)", () => t.LauncherAsync(coordinator, "restart"));
            await t.ClaimRawAsync("2pc: nobody is in doubt any more; the locks are free", s => (s.Values.All(x => x is not null && InDoubt(x).Count == 0), Doubts(s)),
                "0 in doubt", TimeSpan.FromSeconds(60));
        }
        else
        {
            await t.ClaimRawAsync($"3pc: after the decision timeout the participants ask each other, find nobody pre-committed and abort, with node {coordinator} still down",
                s => (s[coordinator] is null && InDoubt(s[p1]).Count == 0 && InDoubt(s[p2]).Count == 0,
                    s[coordinator] is null ? Doubts(s) : $"node {coordinator} answers: it is not down; {Doubts(s)}"),
                "0 in doubt without the coordinator");
        }

        await t.StepAsync($"{protocol}: the transfer never happened: {from}=100 and {to}=0", async () =>
        {
            var (a, b) = (await ReadAsync(t, p1, from), await ReadAsync(t, p2, to));
            return a == "100" && b == "0" ? $"{from}={a}, {to}={b}" : throw new TourFailure($"{from}={a}, {to}={b}");
        });

        if (protocol == "3pc")
        {
            await t.StepAsync($"restart node {coordinator}", () => t.LauncherAsync(coordinator, "restart"));
            await t.ClaimAsync($"node {coordinator} answers again", s => (s.Values.All(x => x is not null), TourRun.Roles(s)), "all up", TimeSpan.FromSeconds(60));
        }
    }

    /// <summary>A key named after <paramref name="prefix"/> that <paramref name="owner"/> holds.</summary>
    private static string KeyOwnedBy(TxnPartitioner partitioner, string prefix, int owner) =>
        Enumerable.Range(0, 1000).Select(i => $"{prefix}-{i}").First(k => partitioner.OwnerOf(k).Value == owner);

    private static async Task<(int Code, string Body)> PostTxnAsync(TourRun t, int node, string protocol, object[] ops)
    {
        var (code, body, _) = await t.SendWithHeadersAsync(node, HttpMethod.Post, "/txn", JsonSerializer.Serialize(new { protocol, ops }));
        return (code, body);
    }

    private static async Task<string> ReadAsync(TourRun t, int node, string key)
    {
        var (code, body) = await t.SucceedAsync(node, HttpMethod.Get, $"/txn/kv/{key}");
        return code == 200 ? body : $"({code} {body})";
    }

    private static List<(string Id, string State, long AgeMs, string Locks)> InDoubt(JsonElement? status)
    {
        if (status is not { } s || !s.TryGetProperty("txn", out var txn) || txn.ValueKind != JsonValueKind.Object
            || !txn.TryGetProperty("inDoubt", out var list) || list.ValueKind != JsonValueKind.Array) return [];
        return [.. list.EnumerateArray().Select(d => (
            d.GetProperty("id").GetString() ?? "?", d.GetProperty("state").GetString() ?? "?", d.GetProperty("ageMs").GetInt64(),
            d.TryGetProperty("locks", out var l) && l.ValueKind == JsonValueKind.Array ? string.Join(",", l.EnumerateArray().Select(x => x.GetString())) : ""))];
    }

    private static string Doubts(Dictionary<int, JsonElement?> s) =>
        string.Join("; ", s.Select(kv => kv.Value is null ? $"node {kv.Key} down"
            : $"node {kv.Key}: {InDoubt(kv.Value).Count} in doubt{string.Concat(InDoubt(kv.Value).Select(d => $" [{d.Id} {d.State} {d.AgeMs} ms, locks {d.Locks}]"))}"));
}

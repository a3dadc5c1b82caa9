using System.Net;
using System.Net.Sockets;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Commands.Nemesis;
using DistSysActors.Simulation.Checkers;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>How `distsys bench nemesis` classifies answers, builds the checked history and sums a run up.</summary>
public class NemesisOutcomeTests
{
    [Theory]
    [InlineData(false, 200, """{"index":42}""", "Ok", "ok")]
    [InlineData(false, 200, "{}", "Unknown", "200 without an index")]
    [InlineData(true, 200, "v", "Ok", "ok")]
    [InlineData(true, 404, """{"error":"not found"}""", "Ok", "ok")]
    [InlineData(false, 503, """{"error":"no Raft leader is known","outcome":"not-applied"}""", "NotApplied", "503 not-applied: no Raft leader is known")]
    [InlineData(false, 503, """{"error":"the write was not confirmed in time","outcome":"unknown"}""", "Unknown", "503 unknown: the write was not confirmed in time")]
    [InlineData(false, 503, """{"error":"the leader, node 3, did not answer in time","outcome":"unknown"}""", "Unknown", "503 unknown: the leader, node N, did not answer in time")]
    [InlineData(true, 503, "<html>", "Unknown", "503 without outcome: no reason given")]
    [InlineData(false, 400, """{"error":"bad"}""", "NotApplied", "http 400")]
    [InlineData(false, 422, """{"error":"conflict"}""", "NotApplied", "http 422")]
    [InlineData(false, 500, "", "Unknown", "http 500")]
    public void Answers_are_classified_by_status_and_the_apis_outcome(bool read, int code, string body, string outcome, string cause)
    {
        var result = NemesisOutcome.FromAnswer(read, code, body);
        Assert.Equal(Enum.Parse<OpOutcome>(outcome), result.Outcome);
        Assert.Equal(cause, result.Cause);
    }

    [Fact]
    public void A_write_acknowledgement_carries_its_index_and_a_read_its_value()
    {
        Assert.Equal(42, NemesisOutcome.FromAnswer(false, 200, """{"index":42}""").Index);
        Assert.Equal(("v", true), (NemesisOutcome.FromAnswer(true, 200, "v").Value, NemesisOutcome.FromAnswer(true, 200, "v").Found));
        Assert.False(NemesisOutcome.FromAnswer(true, 404, "").Found);
    }

    [Fact]
    public void A_failed_connection_is_not_applied_only_when_nothing_was_sent_and_no_answer_in_time_is_unknown()
    {
        Assert.Equal(OpOutcome.NotApplied, NemesisOutcome.ConnectionFailed(requestBytesSent: false, "ConnectionError").Outcome);
        Assert.Equal(OpOutcome.Unknown, NemesisOutcome.ConnectionFailed(requestBytesSent: true, "ResponseEnded").Outcome);
        Assert.Equal("no answer within 7000 ms", NemesisOutcome.TimedOut(7000).Cause);
        Assert.Equal(OpOutcome.Unknown, NemesisOutcome.TimedOut(7000).Outcome);
    }

    [Fact]
    public async Task The_client_sees_whether_a_failed_request_left_the_machine()
    {
        var probe = new SentBytesHandler();
        using var http = probe.CreateClient();
        // A port nobody listens on: refused, nothing written.
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var refusedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://127.0.0.1:{refusedPort}/kv/a"));
        Assert.Equal(0, probe.Written);

        // A server that reads the request and hangs up without answering: the request was written.
        var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var hangUp = Task.Run(async () =>
        {
            using var socket = await server.AcceptSocketAsync();
            await socket.ReceiveAsync(new byte[4096]);
        });
        await Assert.ThrowsAsync<HttpRequestException>(() => http.PutAsync($"http://127.0.0.1:{((IPEndPoint)server.LocalEndpoint).Port}/kv/a", new StringContent("x")));
        await hangUp;
        server.Stop();
        Assert.True(probe.Written > 0);
    }

    private static OpRecord Op(int client, bool read, string key, string? value, long call, long ret, OpResult result, long seq = 0, string state = "node healthy, no fault in force") =>
        new(client, read, key, value, seq, call, ret, result, 1, state, 1);

    private static readonly OpResult Ack = new(OpOutcome.Ok, "ok", 1);
    private static readonly OpResult Unknown = NemesisOutcome.TimedOut(7000);
    private static readonly OpResult Refused = NemesisOutcome.ConnectionFailed(false, "ConnectionError");

    [Fact]
    public void The_checked_history_keeps_answers_and_unknown_writes_and_leaves_out_what_did_nothing()
    {
        var ops = new[]
        {
            Op(1, false, "k", "a", 0, 10, Ack),
            Op(1, true, "k", null, 11, 20, new OpResult(OpOutcome.Ok, "ok", Value: "a", Found: true)),
            Op(2, false, "k", "b", 5, 30, Unknown),
            Op(2, false, "k", "c", 31, 32, Refused),
            Op(3, true, "k", null, 33, 40, Unknown),
        };
        var history = NemesisHistory.ForChecker(ops);
        Assert.Equal(3, history.Count);
        Assert.Equal(KvOutput.Ack, history[0].Output);
        Assert.Equal("a", history[1].Output!.Value);
        Assert.True(history[2].OutcomeUnknown);
        Assert.Equal("b", history[2].Input.Value);
        Assert.Equal([("k", 1, 0L, (long?)1), ("k", 2, 0L, null)], NemesisHistory.Writes(ops).Select(w => (w.Key, w.Writer, w.Seq, w.Index)));
    }

    private static NemesisSummary Summary(IReadOnlyList<OpRecord> ops, IReadOnlyList<OpRecord> finals, Dictionary<string, string?> reads) => new(
        9, ops, LinearizabilityChecker.Check(NemesisHistory.ForChecker(ops.Concat(finals))),
        BenchKvVerification.Check(NemesisHistory.Writes(ops), reads), (3, 2), [15], 12);

    [Fact]
    public void The_summary_counts_outcomes_against_the_target_and_names_the_causes()
    {
        var a = BenchKvVerification.Value(1, 1, BenchKvVerification.IdBytes);
        var ops = new List<OpRecord>
        {
            Op(1, false, "k", a, 0, 10, Ack, seq: 1),
            Op(2, false, "k", BenchKvVerification.Value(2, 1, BenchKvVerification.IdBytes), 12, 7020, Unknown, seq: 1, state: "node cut off in a minority"),
            Op(3, false, "k", BenchKvVerification.Value(3, 1, BenchKvVerification.IdBytes), 20, 21, Refused, seq: 1),
        };
        ops.AddRange(Enumerable.Range(0, 17).Select(i => Op(4, true, "k", null, 30 + i, 31 + i, new OpResult(OpOutcome.Ok, "ok", Value: a, Found: true))));
        var finals = new[] { Op(0, true, "k", null, 8000, 8001, new OpResult(OpOutcome.Ok, "ok", Value: a, Found: true)) };
        var summary = Summary(ops, finals, new() { ["k"] = a });

        Assert.Equal((20, 18, 1, 1), (summary.Count, summary.Ok, summary.NotApplied, summary.Unknown));
        Assert.Equal(5.0, summary.UnknownPercent);
        Assert.Equal(0, summary.ExitCode);
        var text = summary.Format();
        Assert.Contains("operations: 20 (3 writes, 17 linearizable reads); nemesis steps: 12; seed 9", text);
        Assert.Contains("unknown:           1 (5.0%)   1 writes, 0 reads", text);
        Assert.Contains("     1  no answer within 7000 ms", text);
        Assert.Contains("     1  node cut off in a minority", text);
        Assert.Contains("     1  of them were waiting while a new leader was seen", text);
        Assert.Contains("     1  connection failed before sending (ConnectionError)", text);
        Assert.Contains("target: at most 5% unknown: met (5.0%)", text);
        Assert.Contains("leader changes seen: 3 (elections won after the first; 2 moved leadership to another node)", text);
        Assert.Contains("linearizable: yes", text);
        Assert.Contains("verify: 1 keys checked, 1 acknowledged writes, 0 lost", text);
    }

    [Fact]
    public void A_lost_acknowledged_write_fails_the_run_as_not_linearizable_and_lost()
    {
        var a = BenchKvVerification.Value(1, 1, BenchKvVerification.IdBytes);
        var ops = new[] { Op(1, false, "k", a, 0, 10, Ack, seq: 1) };
        // The final read finds the key absent although the write was acknowledged before it.
        var finals = new[] { Op(0, true, "k", null, 100, 110, new OpResult(OpOutcome.Ok, "ok")) };
        var summary = Summary(ops, finals, new() { ["k"] = null });
        Assert.False(summary.Linearizable);
        Assert.Equal(1, summary.ExitCode);
        Assert.Contains("linearizable: NO", summary.Format());
        Assert.Contains("1 lost", summary.Format());
        Assert.Contains("target: at most 5% unknown: met (0.0%)", summary.Format());
    }

    [Fact]
    public void Missing_the_target_is_reported()
    {
        var ops = new[] { Op(1, false, "k", BenchKvVerification.Value(1, 1, BenchKvVerification.IdBytes), 0, 7000, Unknown, seq: 1) };
        var summary = Summary(ops, [], new() { ["k"] = null });
        Assert.Contains("target: at most 5% unknown: MISSED (100.0%)", summary.Format());
        Assert.Equal(0, summary.ExitCode); // an unknown write may or may not have happened: absent is allowed
    }

    [Fact]
    public void Leader_changes_count_new_terms_and_ignore_late_reports_of_older_ones()
    {
        var leaders = new LeaderTracker();
        leaders.Observe(0, 1, 1);
        leaders.Observe(5, 1, 1);
        leaders.Observe(10, 2, null); // an election under way
        leaders.Observe(20, 3, 2);
        leaders.Observe(25, 2, 4);    // a stale node's late view
        leaders.Observe(30, 4, 2);
        Assert.Equal((2, 1), leaders.Changes());
        Assert.Equal(2, leaders.Current);
        Assert.Equal([0L, 20L, 30L], leaders.Leaderships.Select(l => l.AtMs));
    }
}

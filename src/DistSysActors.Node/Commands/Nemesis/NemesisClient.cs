using System.Diagnostics;
using System.Text;

namespace DistSysActors.Node.Commands.Nemesis;

/// <summary>
/// A closed-loop client of `distsys bench nemesis`: waits for each answer (at most the client timeout) before its next
/// request; picks a key and read or write at random (seeded); asks the nodes in turn, moving on after every operation
/// (writes through a follower are forwarded to the leader) and passing over for a second a node that refused a
/// connection (it is down), as a client that keeps a list of live servers would. Each write carries a unique value and
/// an Idempotency-Key and is sent again under that key while its outcome is unknown (see <see cref="WriteAsync"/>); all
/// its attempts are one operation. An operation that certainly did nothing is recorded as such and followed by a
/// short pause, so a dead node or an election does not turn into a flood of instant failures.
/// </summary>
internal sealed class NemesisClient(
    int id, int nodes, int httpBasePort, int keys, double readRatio, int timeoutMs, int writeRetries, Random random,
    Stopwatch clock, NemesisHistory history, Func<int, string> nodeState)
{
    /// <summary>Pause after an operation that did nothing (refused, no leader known): a real client backs off too.</summary>
    public static readonly TimeSpan NotAppliedPause = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a node that refused a connection is passed over.</summary>
    public const long RefusedNodeSkipMs = 1000;

    private readonly SentBytesHandler _probe = new();
    private int _node = (id - 1) % nodes + 1;
    private long _seq;
    // When each node (index = node id) may be asked again after refusing a connection.
    private readonly long[] _skipUntilMs = new long[nodes + 1];

    public static string KeyName(int key) => $"nemesis-{key}";

    /// <summary>Runs operations until <paramref name="stop"/>; an operation under way finishes (its answer or timeout is recorded).</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using var http = _probe.CreateClient();
        while (!stop.IsCancellationRequested)
        {
            var key = KeyName(random.Next(keys));
            var op = random.NextDouble() < readRatio ? await ReadAsync(http, key) : await WriteAsync(http, key, stop);
            history.Add(op);
            _node = NextNode(_node);
            if (op.Outcome == OpOutcome.NotApplied)
            {
                try { await Task.Delay(NotAppliedPause, stop); }
                catch (OperationCanceledException) { }
            }
        }
    }

    private async Task<OpRecord> ReadAsync(HttpClient http, string key)
    {
        var (node, state, callMs) = (_node, nodeState(_node), clock.ElapsedMilliseconds);
        var result = await SendAsync(http, node, HttpMethod.Get, key, null, null, read: true);
        return new OpRecord(id, true, key, null, 0, callMs, clock.ElapsedMilliseconds, result, node, state, 1);
    }

    /// <summary>
    /// A write, sent again under its Idempotency-Key while its outcome is unknown: to the next node, up to
    /// <c>writeRetries</c> more attempts that end unknown; an attempt answered "not applied" in between (no leader known
    /// during an election, a refused connection) says nothing about the earlier one and is tried again after a pause.
    /// The operation ends acknowledged, not applied (its first attempt certainly did nothing), or unknown; at the
    /// latest (1 + retries) client timeouts after its call.
    /// </summary>
    private async Task<OpRecord> WriteAsync(HttpClient http, string key, CancellationToken stop)
    {
        var seq = ++_seq;
        var value = BenchKvVerification.Value(id, seq, BenchKvVerification.IdBytes);
        var idempotencyKey = $"nemesis-c{id}-{seq}";
        var (first, state, callMs) = (_node, nodeState(_node), clock.ElapsedMilliseconds);
        var deadlineMs = callMs + (1L + writeRetries) * timeoutMs;
        OpResult? unknown = null;
        var (attempts, unknownAttempts) = (0, 0);
        OpResult result;
        while (true)
        {
            attempts++;
            result = await SendAsync(http, _node, HttpMethod.Put, key, value, idempotencyKey, read: false);
            if (result.Outcome == OpOutcome.Ok) break;
            if (result.Outcome == OpOutcome.Unknown)
            {
                unknown = result;
                unknownAttempts++;
            }
            if (unknown is null) break; // certainly did nothing: a new operation comes next
            if (unknownAttempts > writeRetries || stop.IsCancellationRequested || clock.ElapsedMilliseconds >= deadlineMs)
            {
                result = unknown;
                break;
            }
            if (result.Outcome == OpOutcome.NotApplied) await Task.Delay(NotAppliedPause, CancellationToken.None);
            _node = NextNode(_node);
        }
        return new OpRecord(id, false, key, value, seq, callMs, clock.ElapsedMilliseconds, result, first, state, attempts);
    }

    /// <summary>The node after <paramref name="node"/> in turn that has not refused a connection lately (the next one if all have).</summary>
    private int NextNode(int node)
    {
        var now = clock.ElapsedMilliseconds;
        for (var i = 1; i <= nodes; i++)
        {
            var candidate = (node + i - 1) % nodes + 1;
            if (_skipUntilMs[candidate] <= now) return candidate;
        }
        return node % nodes + 1;
    }

    private async Task<OpResult> SendAsync(HttpClient http, int node, HttpMethod method, string key, string? value, string? idempotencyKey, bool read)
    {
        using var request = new HttpRequestMessage(method, $"http://127.0.0.1:{httpBasePort + node}/kv/{key}");
        if (value is not null) request.Content = new StringContent(value, Encoding.UTF8, "text/plain");
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var timeout = new CancellationTokenSource(timeoutMs);
        var writtenBefore = _probe.Written;
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            return NemesisOutcome.FromAnswer(read, (int)response.StatusCode, body);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return NemesisOutcome.TimedOut(timeoutMs);
        }
        catch (HttpRequestException e)
        {
            var sent = _probe.Written > writtenBefore;
            if (!sent) _skipUntilMs[node] = clock.ElapsedMilliseconds + RefusedNodeSkipMs;
            return NemesisOutcome.ConnectionFailed(sent, e.HttpRequestError.ToString());
        }
    }
}

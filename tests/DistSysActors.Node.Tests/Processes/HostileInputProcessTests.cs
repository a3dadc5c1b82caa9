using System.Text;
using System.Text.Json;
using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Hostile input from outside, on real nodes: every malformed, mistyped, oversized or odd request answers a 4xx with
/// a JSON reason, the cluster's state does not change, and no node crashes.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class HostileInputProcessTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private ProcessCluster Cluster => fixture.Cluster;

    private async Task<(int Code, string Body)> SendAsync(int node, HttpMethod method, string path, string? body = null,
        Action<HttpRequestMessage>? headers = null)
    {
        using var http = new HttpClient { BaseAddress = Cluster.Client(node).BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        headers?.Invoke(request);
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A refusal: a 4xx whose body is a JSON object with a non-empty "error".</summary>
    private static void AssertRefused((int Code, string Body) answer, string what)
    {
        Assert.True(answer.Code is >= 400 and < 500, $"{what}: expected a 4xx, got {answer.Code} {answer.Body}");
        string? error = null;
        try { error = JsonDocument.Parse(answer.Body).RootElement.GetProperty("error").GetString(); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { }
        Assert.False(string.IsNullOrWhiteSpace(error), $"{what}: {answer.Code} without a JSON reason: '{answer.Body}'");
    }

    public static TheoryData<string, string, string> HostileBodies() => new()
    {
        // A repeated field name answered 500 with an empty body before one parsing layer took every JSON body.
        { "POST", "/kv/{key}/cas", """{"expected":"a","expected":"b","value":"c"}""" },
        { "POST", "/admin/faults", """{"dropRate":0.1,"dropRate":0.2}""" },
        { "POST", "/admin/members", """{"nodeId":4,"nodeId":5}""" },
        { "POST", "/admin/raft/transfer", """{"to":1,"to":2}""" },
        { "POST", "/txn", """{"protocol":"2pc","protocol":"saga","ops":[]}""" },
        { "POST", "/txn", """{"protocol":"2pc","ops":[{"op":"put","key":"{key}","value":"x","value":"y"}]}""" },
        { "POST", "/txn", """{"protocol":"2pc","ops":[{"op":"put","key":"{key}","value":"x","extra":1}]}""" },
        { "POST", "/txn", """{"protocol":"2pc","ops":[{"op":"add","key":"{key}","delta":"5"}]}""" },
        { "POST", "/txn", """{"protocol":"4pc","ops":[]}""" },
        { "POST", "/election/hostile/campaign", """{"candidate":"a","candidate":"b","ttlMs":1000}""" },
        { "POST", "/election/hostile/campaign", """{"candidate":"a","ttlMs":"1000"}""" },
        { "POST", "/dashboard/faults", """{"dropRate":0.1,"dropRate":0.2}""" },
        { "POST", "/kv/{key}/cas", """{"expected":null}""" },
        { "POST", "/kv/{key}/cas", """{"expected":1,"value":"x"}""" },
        { "POST", "/kv/{key}/cas", """{"value":{"nested":true}}""" },
        { "POST", "/kv/{key}/cas", "" },
        { "POST", "/kv/{key}/cas", "[]" },
        { "POST", "/kv/{key}/cas", "{\"value\":\"x\"" },
        { "POST", "/admin/faults", """{"partitions":[[1,"2"]]}""" },
        { "POST", "/admin/faults", """{"partitions":{"a":1}}""" },
        { "POST", "/admin/faults", """{"delayMs":[1,2,3]}""" },
        { "POST", "/admin/faults", """{"seed":1e99}""" },
        { "POST", "/admin/faults", """{"reorder":"yes"}""" },
        { "POST", "/admin/faults", new string('[', 5000) },
        { "POST", "/admin/members", """{"nodeId":"4"}""" },
        { "POST", "/admin/members", """{"nodeId":-4}""" },
        { "POST", "/admin/members", """{"nodeId":4.0000001}""" },
        { "POST", "/admin/members", "null" },
        { "POST", "/admin/raft/transfer", """{"to":[1]}""" },
        { "DELETE", "/admin/members/abc", "" },
        { "DELETE", "/admin/members/-1", "" },
        { "DELETE", "/admin/members/99999999999999999999", "" },
        { "GET", "/admin/seen/0", "" },
        { "GET", "/kv/{key}?consistency=bogus", "" },
        { "GET", "/kv/{key}?consistency=bounded&max-lag-ms=-5", "" },
        { "PUT", "/kv/" + new string('k', 1025), "v" },
        { "PATCH", "/kv/{key}", "v" },
        { "PUT", "/status", "" },
        { "GET", "/no/such/path", "" },
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task A_hostile_request_is_a_4xx_with_a_reason_and_changes_nothing(string method, string path, string body)
    {
        await fixture.EnsureRunningAsync();
        var key = $"hostile-{Guid.NewGuid():N}";
        await Cluster.AwaitAsync(async () => (await SendAsync(1, HttpMethod.Put, $"/kv/{key}", "sentinel")).Code == 200,
            TimeSpan.FromSeconds(30), "the sentinel write succeeds");
        var membersBefore = (await SendAsync(2, HttpMethod.Get, "/admin/members")).Body;

        var answer = await SendAsync(2, new HttpMethod(method), path.Replace("{key}", key, StringComparison.Ordinal), body);
        output.WriteLine($"{method} {path[..Math.Min(path.Length, 60)]} {body[..Math.Min(body.Length, 60)]}: {answer.Code} {answer.Body}");
        AssertRefused(answer, $"{method} {path} {body[..Math.Min(body.Length, 60)]}");

        Assert.Equal((200, "sentinel"), await SendAsync(3, HttpMethod.Get, $"/kv/{key}"));
        Assert.True(JsonDocument.Parse((await SendAsync(2, HttpMethod.Get, "/status")).Body).RootElement
            .GetProperty("network").GetProperty("faults").GetProperty("partitions").GetArrayLength() == 0, "no fault installed");
        Assert.Equal(StripVolatile(membersBefore), StripVolatile((await SendAsync(2, HttpMethod.Get, "/admin/members")).Body));
        for (var node = 1; node <= 3; node++) Assert.Equal(200, (await SendAsync(node, HttpMethod.Get, "/health/live")).Code);
    }

    /// <summary>The voters and learners of /admin/members, without the indexes that move with every write.</summary>
    private static string StripVolatile(string members) => string.Join(",",
        JsonDocument.Parse(members).RootElement.GetProperty("servers").EnumerateArray()
            .Select(s => $"{s.GetProperty("nodeId").GetInt32()}:{s.GetProperty("voter").GetBoolean()}"));

    [Fact]
    public async Task Request_bounds_answer_with_a_reason_and_405_names_the_allowed_methods()
    {
        await fixture.EnsureRunningAsync();
        AssertRefused(await SendAsync(1, HttpMethod.Get, "/kv/" + new string('u', HttpSettings.UrlBytesMax)), "a long URL");
        Assert.Equal(414, (await SendAsync(1, HttpMethod.Get, "/kv/" + new string('u', HttpSettings.UrlBytesMax))).Code);
        var big = await SendAsync(1, HttpMethod.Get, "/kv/a", headers: r => r.Headers.Add("X-Big", new string('h', HttpSettings.HeadersBytesMax)));
        Assert.Equal(431, big.Code);
        AssertRefused(big, "large headers");
        var many = await SendAsync(1, HttpMethod.Get, "/kv/a", headers: r =>
        {
            for (var i = 0; i <= HttpSettings.HeaderCountMax; i++) r.Headers.Add($"X-H{i}", "v");
        });
        Assert.Equal(431, many.Code);

        using var http = new HttpClient { BaseAddress = Cluster.Client(1).BaseAddress };
        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/kv/a"));
        Assert.Equal(405, (int)response.StatusCode);
        Assert.Equal("DELETE, GET, PUT", string.Join(", ", response.Content.Headers.Allow));
        var fault = await SendAsync(1, HttpMethod.Put, "/admin/faults", "{}");
        Assert.Equal(405, fault.Code);
        AssertRefused(fault, "PUT /admin/faults");

        // The fault endpoint has its own bound now, far below Kestrel's.
        var huge = await SendAsync(1, HttpMethod.Post, "/admin/faults", "{\"seed\": 1" + new string(' ', FaultSpecJson.BodyBytesMax) + "}");
        Assert.Equal(413, huge.Code);
        AssertRefused(huge, "a large fault spec");
    }

    /// <summary>
    /// Seeded mutations of a valid compare-and-set body (bytes flipped, cut, repeated, fields duplicated or retyped):
    /// each answers 400 (malformed) or 409 (well formed, but the expected value never matches), and the key keeps its value.
    /// </summary>
    [Fact]
    public async Task Mutated_bodies_never_crash_a_node_or_change_state()
    {
        await fixture.EnsureRunningAsync();
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var key = $"fuzz-{Guid.NewGuid():N}";
        await Cluster.AwaitAsync(async () => (await SendAsync(1, HttpMethod.Put, $"/kv/{key}", "sentinel")).Code == 200,
            TimeSpan.FromSeconds(30), "the sentinel write succeeds");
        const string valid = """{"expected": "not-the-value", "value": "changed"}""";
        for (var i = 0; i < 150; i++)
        {
            var body = Mutate(valid, random);
            var answer = await SendAsync(1 + i % 3, HttpMethod.Post, $"/kv/{key}/cas", body);
            if (answer.Code == 503) continue; // an election under load: no answer about the body
            Assert.True(answer.Code is 400 or 409 or 413, $"seed {seed}, body '{body}': {answer.Code} {answer.Body}");
            AssertRefused(answer, $"seed {seed}, body '{body}'");
        }
        Assert.Equal((200, "sentinel"), await SendAsync(2, HttpMethod.Get, $"/kv/{key}"));
        for (var node = 1; node <= 3; node++) Assert.Equal(200, (await SendAsync(node, HttpMethod.Get, "/health/live")).Code);
    }

    private static string Mutate(string body, Random random)
    {
        var chars = body.ToList();
        switch (random.Next(6))
        {
            case 0: chars[random.Next(chars.Count)] = (char)random.Next(0, 128); break;
            case 1: { var at = random.Next(chars.Count); chars.RemoveRange(at, Math.Min(chars.Count - at, 1 + random.Next(5))); break; }
            case 2: return body[..random.Next(body.Length)];
            case 3: return body.Replace("\"value\": \"changed\"", "\"value\": \"changed\", \"value\": \"again\"", StringComparison.Ordinal);
            case 4: return body.Replace("\"changed\"", new[] { "1", "true", "null", "[]", "{}", "1e999" }[random.Next(6)], StringComparison.Ordinal);
            default: chars.Insert(random.Next(chars.Count), "{}[],:\"\\"[random.Next(8)]); break;
        }
        while (chars.Count > 0 && random.Next(3) == 0) chars.RemoveAt(random.Next(chars.Count));
        return new string(chars.ToArray());
    }
}

using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Http;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Dashboard;

/// <summary>
/// What the page's controls do, the same whoever serves it (a node or the `distsys local` launcher): a fault spec goes
/// to every node (a partition is a cluster-wide spec), a key write or read goes to the first node that answers, a
/// leadership transfer to any node (followers pass it to the leader). Every answer says what was done, or why not, in
/// <c>message</c>.
/// </summary>
public sealed class DashboardControls(DashboardTopology topology) : IDisposable
{
    public const int ControlTimeoutMs = 8000;
    private readonly HttpClient _http = topology.NewClient(TimeSpan.FromMilliseconds(ControlTimeoutMs));

    public static IResult Answer(bool ok, string message, int? status = null, JsonObject? extra = null)
    {
        var body = extra ?? new JsonObject();
        body["ok"] = ok;
        body["message"] = message;
        if (!ok) body["error"] = message; // the one error shape every endpoint answers with
        return Results.Json(body, statusCode: status ?? (ok ? 200 : 502));
    }

    /// <summary>
    /// Installs a fault spec on every node: the body is the <c>/admin/faults</c> JSON, where <c>partition</c> may give the
    /// groups as text ("1,2/3"). Checked before any node is asked, so bad input changes nothing.
    /// </summary>
    public async Task<IResult> FaultsAsync(string body, CancellationToken ct)
    {
        JsonObject obj;
        try { obj = JsonBody.ParseStrict(string.IsNullOrWhiteSpace(body) ? "{}" : body) as JsonObject ?? throw new FormatException("the body must be a JSON object"); }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException) { return Answer(false, $"bad fault spec: {e.Message}", 400); }
        var described = new List<string>();
        if (obj["partition"] is { } text)
        {
            obj.Remove("partition");
            var spec = text.GetValueKind() == System.Text.Json.JsonValueKind.String ? text.GetValue<string>() : "";
            if (!string.IsNullOrWhiteSpace(spec))
            {
                try
                {
                    obj["partitions"] = new JsonArray(FaultCommand.ParsePartition(spec)
                        .Select(g => (JsonNode)new JsonArray(g.Select(n => (JsonNode)n.Value).ToArray())).ToArray());
                }
                catch (CommandException e) { return Answer(false, $"bad partition: {e.Message}", 400); }
            }
        }
        var json = obj.ToJsonString();
        var (parsed, error) = FaultSpecJson.Parse(json, topology.Nodes);
        if (parsed is null) return Answer(false, $"bad fault spec: {error}", 400);
        var what = StatusCommand.Describe(FaultSpecDto.From(parsed));
        return await FanOutAsync(id => _http.PostAsync($"{topology.NodeUrl(id)}/admin/faults", new StringContent(json, Encoding.UTF8, "application/json"), ct),
            what == "none" ? "no faults" : what);
    }

    public Task<IResult> HealAsync(CancellationToken ct) =>
        FanOutAsync(id => _http.DeleteAsync($"{topology.NodeUrl(id)}/admin/faults", ct), "healed: no faults");

    private async Task<IResult> FanOutAsync(Func<int, Task<HttpResponseMessage>> send, string what)
    {
        var ids = Enumerable.Range(1, topology.Nodes).ToList();
        var results = await Task.WhenAll(ids.Select(async id =>
        {
            try
            {
                using var response = await send(id);
                if (response.IsSuccessStatusCode) return (id, Error: (string?)null);
                return (id, Error: $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return (id, Error: e.GetBaseException().Message); }
        }));
        var failed = results.Where(r => r.Error is not null).ToList();
        var applied = results.Where(r => r.Error is null).Select(r => r.id).ToList();
        var extra = new JsonObject { ["applied"] = new JsonArray(applied.Select(i => (JsonNode)i).ToArray()) };
        if (failed.Count == 0) return Answer(true, $"{what}: installed on nodes {string.Join(",", applied)}", extra: extra);
        var why = string.Join("; ", failed.Select(f => $"node {f.id}: {f.Error}"));
        return applied.Count == 0
            ? Answer(false, $"{what}: no node took it ({why})", extra: extra)
            : Answer(false, $"{what}: installed on nodes {string.Join(",", applied)}, not on the others ({why}); a node that was down gets it when you apply again", extra: extra);
    }

    /// <summary>A request to the first node that answers (preferring <paramref name="preferred"/>): a key write or read, a transfer.</summary>
    public async Task<IResult> ForwardAsync(HttpMethod method, string pathAndQuery, string? body, string what, int? preferred, CancellationToken ct)
    {
        var order = Enumerable.Range(1, topology.Nodes).OrderBy(id => id == preferred ? 0 : 1).ThenBy(id => id).ToList();
        var refused = new List<string>();
        foreach (var id in order)
        {
            try
            {
                using var request = new HttpRequestMessage(method, $"{topology.NodeUrl(id)}{pathAndQuery}");
                if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, pathAndQuery.StartsWith("/kv/") || pathAndQuery.StartsWith("/ap/") ? "text/plain" : "application/json");
                using var response = await _http.SendAsync(request, ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                var code = (int)response.StatusCode;
                var extra = new JsonObject { ["node"] = id, ["status"] = code, ["body"] = text };
                var ok = response.IsSuccessStatusCode;
                var message = $"{what} via node {id}: {code} {(ok ? text : ErrorText(text))}";
                // 404 of a key read is an answer, not a failure of the control.
                return Answer(ok || (code == 404 && method == HttpMethod.Get), message, ok ? 200 : code is >= 400 and < 600 ? code : 502, extra);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                refused.Add($"node {id}: {(e is TaskCanceledException ? $"no answer within {ControlTimeoutMs} ms" : e.GetBaseException().Message)}");
            }
        }
        return Answer(false, $"{what}: no node answered ({string.Join("; ", refused)})", 503);
    }

    private static string ErrorText(string body)
    {
        try { return JsonNode.Parse(body)?["error"]?.GetValue<string>() is { } e ? e : body; }
        catch (System.Text.Json.JsonException) { return body; }
    }

    public void Dispose() => _http.Dispose();
}

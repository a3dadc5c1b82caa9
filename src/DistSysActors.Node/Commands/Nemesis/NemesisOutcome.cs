using System.Text.Json;

namespace DistSysActors.Node.Commands.Nemesis;

/// <summary>How one request ended, as its client can tell.</summary>
internal enum OpOutcome
{
    /// <summary>Answered: a write acknowledged at an index, or a read's value (or 404).</summary>
    Ok,
    /// <summary>Certainly had no effect: 503 "not-applied", a 4xx, or a connection that failed before the request was sent.</summary>
    NotApplied,
    /// <summary>May or may not take effect: 503 "unknown", no answer within the client's timeout, or a connection lost after sending.</summary>
    Unknown,
}

/// <summary>One request's result: the outcome, why (grouped in the summary), and for an acknowledged write its Raft index.</summary>
internal sealed record OpResult(OpOutcome Outcome, string Cause, long? Index = null, string? Value = null, bool Found = false);

/// <summary>Classifies an HTTP answer or failure into <see cref="OpOutcome"/>; pure, so the rules are unit-tested.</summary>
internal static class NemesisOutcome
{
    /// <summary>An answer with status <paramref name="code"/> and <paramref name="body"/> to a read or a write.</summary>
    public static OpResult FromAnswer(bool read, int code, string body)
    {
        switch (code)
        {
            case 200 when read:
                return new OpResult(OpOutcome.Ok, "ok", Value: body, Found: true);
            case 404 when read:
                return new OpResult(OpOutcome.Ok, "ok");
            case 200:
                return Field(body, "index") is JsonElement { ValueKind: JsonValueKind.Number } i && i.TryGetInt64(out var index)
                    ? new OpResult(OpOutcome.Ok, "ok", index)
                    : new OpResult(OpOutcome.Unknown, "200 without an index");
            case 503:
                var outcome = Field(body, "outcome") is JsonElement { ValueKind: JsonValueKind.String } o ? o.GetString() : null;
                var error = Field(body, "error") is JsonElement { ValueKind: JsonValueKind.String } e ? e.GetString() : null;
                var reason = Generalize(error ?? "no reason given");
                return outcome == "not-applied"
                    ? new OpResult(OpOutcome.NotApplied, $"503 not-applied: {reason}")
                    : new OpResult(OpOutcome.Unknown, $"503 {outcome ?? "without outcome"}: {reason}");
            case >= 400 and < 500:
                return new OpResult(OpOutcome.NotApplied, $"http {code}");
            default:
                return new OpResult(OpOutcome.Unknown, $"http {code}");
        }
    }

    /// <summary>No answer within the client's timeout: the request may still take effect.</summary>
    public static OpResult TimedOut(int timeoutMs) => new(OpOutcome.Unknown, $"no answer within {timeoutMs} ms");

    /// <summary>
    /// The connection failed. Only when not one byte of the request reached a socket is it certain the node never saw
    /// it (e.g. connection refused by a killed node); otherwise the node may have acted on it before the connection went.
    /// </summary>
    public static OpResult ConnectionFailed(bool requestBytesSent, string error) => requestBytesSent
        ? new OpResult(OpOutcome.Unknown, $"connection lost after sending ({error})")
        : new OpResult(OpOutcome.NotApplied, $"connection failed before sending ({error})");

    /// <summary>Node numbers in a reason vary ("node 3 leads now"); they are replaced by N so causes group.</summary>
    internal static string Generalize(string reason) =>
        System.Text.RegularExpressions.Regex.Replace(reason, @"\b(node|nodes|leader,? node|term|index) \d+", m => m.Value[..m.Value.LastIndexOf(' ')] + " N");

    private static JsonElement? Field(string body, string name)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(name, out var v) ? v.Clone() : null;
        }
        catch (JsonException) { return null; }
    }
}

using System.Globalization;

namespace DistSysActors.Core.Logging;

/// <summary>
/// W3C Trace Context (https://www.w3.org/TR/trace-context/, section 3.2 "traceparent"): a 16-byte trace id shared by
/// every record of one request on every node, the 8-byte id of the current span, and the trace flags. Held as hex text
/// in lower case, exactly as the header carries it.
/// </summary>
public sealed record TraceContext(string TraceId, string SpanId, byte Flags = 1)
{
    public const string HeaderName = "traceparent";

    /// <summary>"00-{trace-id}-{parent-id}-{flags}" (version 00).</summary>
    public string TraceParent => $"00-{TraceId}-{SpanId}-{Flags:x2}";

    /// <summary>A new trace (a request that came without a valid header) with random ids from <paramref name="random"/>.</summary>
    public static TraceContext NewTrace(DeterministicRandom random) => new(NonZeroHex(random, 16), NonZeroHex(random, 8));

    /// <summary>The same trace, a new span (one per hop or step that wants its own span id).</summary>
    public TraceContext NewSpan(DeterministicRandom random) => this with { SpanId = NonZeroHex(random, 8) };

    /// <summary>
    /// Parses a traceparent header. Null when it is not a valid version-00 header or has an all-zero id: the W3C rule is
    /// then to start a new trace, not to fail the request.
    /// </summary>
    public static TraceContext? TryParse(string? header)
    {
        if (header is null) return null;
        var parts = header.Trim().Split('-');
        if (parts.Length != 4 || parts[0] != "00") return null;
        if (!IsHex(parts[1], 32) || !IsHex(parts[2], 16) || !IsHex(parts[3], 2)) return null;
        if (IsZero(parts[1]) || IsZero(parts[2])) return null;
        return new TraceContext(parts[1], parts[2], byte.Parse(parts[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
    }

    /// <summary>Whether <paramref name="traceId"/> is a valid trace id (32 lower-case hex digits, not all zero): for query filters.</summary>
    public static bool IsTraceId(string traceId) => IsHex(traceId, 32) && !IsZero(traceId);

    /// <summary>The ids as bytes (16 + 8) for a binary envelope.</summary>
    public (byte[] TraceId, byte[] SpanId) ToBytes() => (Convert.FromHexString(TraceId), Convert.FromHexString(SpanId));

    public static TraceContext FromBytes(ReadOnlySpan<byte> traceId, ReadOnlySpan<byte> spanId, byte flags)
    {
        if (traceId.Length != 16 || spanId.Length != 8) throw new ArgumentException("a trace id is 16 bytes and a span id 8");
        return new TraceContext(Convert.ToHexStringLower(traceId), Convert.ToHexStringLower(spanId), flags);
    }

    public override string ToString() => TraceParent;

    private static string NonZeroHex(DeterministicRandom random, int bytes)
    {
        var buffer = new byte[bytes];
        do
        {
            for (var i = 0; i < bytes; i += 8)
            {
                var word = random.NextUInt64();
                for (var j = 0; j < 8 && i + j < bytes; j++) buffer[i + j] = (byte)(word >> (8 * j));
            }
        } while (buffer.All(b => b == 0));
        return Convert.ToHexStringLower(buffer);
    }

    private static bool IsHex(string text, int length) =>
        text.Length == length && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private static bool IsZero(string text) => text.All(c => c == '0');
}

using System.Globalization;
using System.Text.Json;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys bench kv --verify`: every written value carries a unique id, every write's outcome is recorded, and after
/// the run a linearizable read of each written key must return the acknowledged write with the highest Raft index
/// (or a write whose outcome is unknown). Pure functions over the recorded history, so the rules are unit-tested.
/// </summary>
internal static class BenchKvVerification
{
    /// <summary>Length of the id at the start of each value: "vid-" + 4-digit writer + "-" + 10-digit sequence + ":".</summary>
    public const int IdBytes = 20;
    /// <summary>Writes recorded per run (about 32 bytes each, ~128 MB); beyond it the history is incomplete and the run is not verified.</summary>
    public const int WritesMax = 4_000_000;
    private const int WriterMax = 9999;
    private static readonly char[] Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".ToCharArray();

    /// <summary>One write attempt: the key, the writer and its sequence number (the value's id), and the index the API acknowledged, or null when the outcome is unknown.</summary>
    public readonly record struct WriteRecord(string Key, int Writer, long Seq, long? Index);

    public sealed record Violation(string Key, string Expected, string Got);

    /// <summary>The check's result; <see cref="Unread"/> keys (every read attempt failed) leave the run unverified, not failed.</summary>
    public sealed record Report(int KeysChecked, int AcknowledgedWrites, int UnknownWrites, IReadOnlyList<Violation> Violations, IReadOnlyList<string> Unread)
    {
        public bool Passed => Violations.Count == 0 && Unread.Count == 0;

        public string Format()
        {
            var lines = new List<string> { $"verify: {KeysChecked} keys checked, {AcknowledgedWrites} acknowledged writes, {Violations.Count} lost" };
            if (UnknownWrites > 0)
                lines.Add($"  {UnknownWrites} writes with unknown outcome (timeout, 503 unknown, connection error) were accepted as applied or not");
            lines.AddRange(Violations.Select(v => $"  violation: key {v.Key}: expected {v.Expected}, got {v.Got}"));
            if (Unread.Count > 0)
                lines.Add($"  not verified: {Unread.Count} written keys could not be read back ({string.Join(", ", Unread.Take(10))}{(Unread.Count > 10 ? ", ..." : "")})");
            return string.Join(Environment.NewLine, lines);
        }
    }

    /// <summary>How the API answered a write: acknowledged at an index, certainly not applied, or unknown (it may still take effect).</summary>
    public sealed record Outcome(long? Index, bool Applied)
    {
        public static readonly Outcome NotApplied = new(null, false);
        public static readonly Outcome Unknown = new(null, true);
        public bool IsUnknown => Applied && Index is null;
    }

    /// <summary>The value of a writer's seq-th write: its id, then characters derived from the id, exactly <paramref name="valueBytes"/> long.</summary>
    public static string Value(int writer, long seq, int valueBytes)
    {
        if (writer is < 0 or > WriterMax) throw new ArgumentOutOfRangeException(nameof(writer), writer, $"writer must be 0..{WriterMax}");
        if (valueBytes < IdBytes) throw new ArgumentOutOfRangeException(nameof(valueBytes), valueBytes, $"a verified value needs at least {IdBytes} bytes");
        var chars = new char[valueBytes];
        Id(writer, seq).CopyTo(chars);
        // Padding derived from the id, so a read can tell a corrupted value from another write's value.
        var state = (ulong)writer * 0x9E3779B97F4A7C15UL ^ (ulong)seq;
        for (var i = IdBytes; i < chars.Length; i++)
        {
            state = state * 6364136223846793005UL + 1442695040888963407UL;
            chars[i] = Alphabet[(int)((state >> 33) % (ulong)Alphabet.Length)];
        }
        return new string(chars);
    }

    public static string Id(int writer, long seq) => string.Create(CultureInfo.InvariantCulture, $"vid-{writer:D4}-{seq:D10}:");

    /// <summary>The writer and sequence number of a value this generator wrote, or null for anything else (including a value whose padding was altered).</summary>
    public static (int Writer, long Seq)? Parse(string value)
    {
        if (value.Length < IdBytes || !value.StartsWith("vid-", StringComparison.Ordinal) || value[8] != '-' || value[IdBytes - 1] != ':') return null;
        if (!int.TryParse(value.AsSpan(4, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var writer)
            || !long.TryParse(value.AsSpan(9, 10), NumberStyles.None, CultureInfo.InvariantCulture, out var seq)) return null;
        return Value(writer, seq, value.Length) == value ? (writer, seq) : null;
    }

    /// <summary>Classifies a write's HTTP answer: 200 `{"index": n}` is acknowledged; 503 "not-applied" and 4xx certainly did nothing; anything else may have.</summary>
    public static Outcome Classify(int code, string body)
    {
        if (code == 200)
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("index", out var i) && i.TryGetInt64(out var index))
                    return new Outcome(index, true);
            }
            catch (JsonException) { }
            return Outcome.Unknown;
        }
        if (code is >= 400 and < 500) return Outcome.NotApplied;
        if (code == 503)
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("outcome", out var o)
                    && o.ValueKind == JsonValueKind.String && o.GetString() == "not-applied") return Outcome.NotApplied;
            }
            catch (JsonException) { }
        }
        return Outcome.Unknown;
    }

    /// <summary>
    /// Checks the final reads (key to value, null when the key was absent) against the recorded writes. A key must hold
    /// its acknowledged write with the highest index. A write with unknown outcome may still be ordered after it (a timed-out
    /// proposal can commit later), so its value is accepted too, and a key with only unknown writes may also be absent.
    /// Two acknowledged writes at one index are a safety violation whatever the reads say.
    /// </summary>
    public static Report Check(IReadOnlyList<WriteRecord> writes, IReadOnlyDictionary<string, string?> reads)
    {
        var violations = new List<Violation>();
        var acknowledged = writes.Where(w => w.Index is not null).ToList();
        foreach (var group in acknowledged.GroupBy(w => w.Index!.Value).Where(g => g.Count() > 1).OrderBy(g => g.Key))
            violations.Add(new Violation(
                string.Join(", ", group.Select(w => w.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)),
                $"one acknowledged write at index {group.Key}",
                $"{group.Count()} ({string.Join(", ", group.Select(w => $"{Show(w.Writer, w.Seq)} to {w.Key}"))})"));

        var keys = 0;
        var unread = new List<string>();
        foreach (var toKey in writes.ToLookup(w => w.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var key = toKey.Key;
            WriteRecord? latest = null;
            foreach (var w in toKey)
                if (w.Index is { } index && (latest is null || index > latest.Value.Index)) latest = w;
            var unknown = toKey.Where(w => w.Index is null).ToList();
            if (!reads.TryGetValue(key, out var value))
            {
                unread.Add(key);
                continue;
            }
            keys++;
            if (value is null)
            {
                if (latest is not null) violations.Add(new Violation(key, Expected(latest, unknown), "missing (404)"));
                continue;
            }
            if (Parse(value) is not { } id)
            {
                violations.Add(new Violation(key, Expected(latest, unknown), $"an unrecognised or corrupted value '{Shorten(value)}'"));
                continue;
            }
            if (latest is { } l && id == (l.Writer, l.Seq)) continue;
            if (unknown.Any(w => (w.Writer, w.Seq) == id)) continue;
            var match = toKey.FirstOrDefault(w => (w.Writer, w.Seq) == id);
            var got = match.Key is null ? $"{Show(id.Writer, id.Seq)} (never written to this key)"
                : $"{Show(id.Writer, id.Seq)} (acknowledged at index {match.Index})";
            violations.Add(new Violation(key, Expected(latest, unknown), got));
        }
        return new Report(keys, acknowledged.Count, writes.Count - acknowledged.Count, violations, unread);
    }

    private static string Expected(WriteRecord? latest, IReadOnlyList<WriteRecord> unknown)
    {
        var parts = new List<string>();
        parts.Add(latest is { } l ? $"{Show(l.Writer, l.Seq)} (index {l.Index})" : "absent");
        if (unknown.Count > 0) parts.Add($"one of {unknown.Count} writes with unknown outcome");
        return string.Join(" or ", parts);
    }

    private static string Show(int writer, long seq) => Id(writer, seq)[..^1];

    private static string Shorten(string value) => value.Length > 40 ? value[..40] + "..." : value;
}

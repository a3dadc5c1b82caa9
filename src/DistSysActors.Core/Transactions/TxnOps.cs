using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace DistSysActors.Core.Transactions;

/// <summary>Which atomic-commit protocol a transaction runs.</summary>
public enum TxnProtocol { TwoPhase = 1, ThreePhase = 2, Saga = 3 }

/// <summary>What a role knows of a transaction; the same words as <c>GET /txn/{id}</c>.</summary>
public enum TxnState { Unknown = 0, Active = 1, Prepared = 2, PreCommitted = 3, Committed = 4, Aborted = 5 }

public static class TxnNames
{
    public static string Of(TxnProtocol p) => p switch { TxnProtocol.TwoPhase => "2pc", TxnProtocol.ThreePhase => "3pc", _ => "saga" };

    public static TxnProtocol? ParseProtocol(string? text) => text switch { "2pc" => TxnProtocol.TwoPhase, "3pc" => TxnProtocol.ThreePhase, "saga" => TxnProtocol.Saga, _ => null };

    public static string Of(TxnState s) => s switch
    {
        TxnState.Active => "active", TxnState.Prepared => "prepared", TxnState.PreCommitted => "precommitted",
        TxnState.Committed => "committed", TxnState.Aborted => "aborted", _ => "unknown",
    };
}

/// <summary>One operation of a transaction on one key.</summary>
public abstract record TxnOp(string Key);

public sealed record PutOp(string Key, string Value) : TxnOp(Key);

public sealed record DeleteOp(string Key) : TxnOp(Key);

/// <summary>Adds <paramref name="Delta"/> to the key's decimal integer value (absent = 0); a result below <paramref name="Min"/> refuses the transaction.</summary>
public sealed record AddOp(string Key, long Delta, long? Min) : TxnOp(Key);

/// <summary>A staged write: the key's value once the transaction commits (null deletes it).</summary>
public sealed record TxnWrite(string Key, string? Value);

/// <summary>Validation of a client's transaction, and the evaluation of ops against current values.</summary>
public static class TxnOps
{
    public const int OpsMax = 64;
    public const int KeyBytesMax = 256;
    public const int ValueBytesMax = 64 * 1024;

    /// <summary>Why the ops are not a valid transaction, or null when they are.</summary>
    public static string? Validate(IReadOnlyList<TxnOp> ops)
    {
        if (ops.Count == 0) return "ops must hold at least one op";
        if (ops.Count > OpsMax) return $"ops holds {ops.Count} ops, at most {OpsMax} are allowed";
        for (var i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            if (string.IsNullOrEmpty(op.Key)) return $"ops[{i}]: key must be a non-empty string";
            if (Encoding.UTF8.GetByteCount(op.Key) > KeyBytesMax) return $"ops[{i}]: key is longer than {KeyBytesMax} bytes";
            if (op is PutOp p && Encoding.UTF8.GetByteCount(p.Value) > ValueBytesMax) return $"ops[{i}]: value is longer than {ValueBytesMax} bytes";
        }
        return null;
    }

    /// <summary>
    /// Applies <paramref name="ops"/> in order over <paramref name="read"/> (later ops see earlier ones): the resulting
    /// writes (one per key, in first-touched order), or why the participant must refuse.
    /// </summary>
    public static (ImmutableArray<TxnWrite> Writes, string? Refusal) Evaluate(IReadOnlyList<TxnOp> ops, Func<string, string?> read, bool enforceMin = true)
    {
        var overlay = new Dictionary<string, string?>(StringComparer.Ordinal);
        var order = new List<string>();
        string? Current(string key) => overlay.TryGetValue(key, out var v) ? v : read(key);
        void Set(string key, string? value)
        {
            if (!overlay.ContainsKey(key)) order.Add(key);
            overlay[key] = value;
        }
        foreach (var op in ops)
        {
            switch (op)
            {
                case PutOp p: Set(p.Key, p.Value); break;
                case DeleteOp d: Set(d.Key, null); break;
                case AddOp a:
                    var text = Current(a.Key);
                    long value = 0;
                    if (text is not null && !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
                        return ([], $"key {a.Key} holds '{Shorten(text)}', not a decimal integer");
                    long result;
                    try { result = checked(value + a.Delta); }
                    catch (OverflowException) { return ([], $"key {a.Key}: {value} + {a.Delta} overflows"); }
                    if (enforceMin && a.Min is { } min && result < min) return ([], $"key {a.Key} would be {result}, below its min {min}");
                    Set(a.Key, result.ToString(CultureInfo.InvariantCulture));
                    break;
            }
        }
        return ([.. order.Select(k => new TxnWrite(k, overlay[k]))], null);
    }

    /// <summary>The ops that undo <paramref name="ops"/> applied over <paramref name="read"/>: adds are inverted (they commute), puts and deletes restore the before-image.</summary>
    public static ImmutableArray<TxnOp> Compensation(IReadOnlyList<TxnOp> ops, Func<string, string?> read)
    {
        var undo = new List<TxnOp>();
        var restored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in ops)
        {
            switch (op)
            {
                case AddOp a when !restored.Contains(a.Key): undo.Add(new AddOp(a.Key, -a.Delta, null)); break;
                case PutOp or DeleteOp when restored.Add(op.Key):
                    undo.RemoveAll(u => u.Key == op.Key);
                    undo.Add(read(op.Key) is { } before ? new PutOp(op.Key, before) : new DeleteOp(op.Key));
                    break;
            }
        }
        undo.Reverse();
        return [.. undo];
    }

    private static string Shorten(string s) => s.Length <= 32 ? s : s[..32] + "...";
}

/// <summary>A transaction's identity: the coordinating node and its sequence there, written <c>{node}-{seq}</c>.</summary>
public readonly record struct TxnId(NodeId Coordinator, long Seq)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Coordinator.Value}-{Seq}");

    public static bool TryParse(string? text, out TxnId id)
    {
        id = default;
        if (text is null) return false;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0) return false;
        if (!int.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var node) || node <= 0) return false;
        if (!long.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq) || seq <= 0) return false;
        id = new TxnId(new NodeId(node), seq);
        return true;
    }
}

/// <summary>
/// Which participant owns a key (classic mode: every node is a participant): FNV-1a of the key's UTF-8 bytes, modulo the
/// number of participants, in <see cref="NodeId"/> order. Stable across processes (no <c>string.GetHashCode</c>).
/// </summary>
public sealed class TxnPartitioner(IEnumerable<NodeId> participants)
{
    public ImmutableArray<NodeId> Participants { get; } = [.. participants.Order()];

    public NodeId OwnerOf(string key) => Participants[(int)(Hash(key) % (uint)Participants.Length)];

    public static uint Hash(string key)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(key)) hash = unchecked((hash ^ b) * 16777619u);
        return hash;
    }
}

using System.Globalization;

namespace DistSysActors.Simulation.Checkers;

public enum KvOperationKind { Put, Get, Delete, Cas }

/// <summary>A call on a key-value register. <see cref="Expected"/> null means "absent" for a cas.</summary>
public sealed record KvInput(KvOperationKind Kind, string Key, string? Value = null, string? Expected = null)
{
    public static KvInput Put(string key, string value) => new(KvOperationKind.Put, key, value);
    public static KvInput Get(string key) => new(KvOperationKind.Get, key);
    public static KvInput Delete(string key) => new(KvOperationKind.Delete, key);
    public static KvInput Cas(string key, string? expected, string value) => new(KvOperationKind.Cas, key, value, expected);

    public override string ToString() => Kind switch
    {
        KvOperationKind.Put => $"put({Quote(Value)})",
        KvOperationKind.Get => "get()",
        KvOperationKind.Delete => "delete()",
        _ => $"cas({Quote(Expected)} -> {Quote(Value)})",
    };

    internal static string Quote(string? value) => value is null ? "absent" : $"\"{value}\"";
}

/// <summary>
/// A confirmed result. Get: <see cref="Value"/> (null = absent). Cas: <see cref="Swapped"/>, and when not swapped the
/// current value if the server reported it (<see cref="CurrentKnown"/>). Put and delete: <see cref="Ack"/>.
/// </summary>
public sealed record KvOutput(string? Value, bool Swapped, bool CurrentKnown)
{
    public static readonly KvOutput Ack = new(null, false, false);
    public static readonly KvOutput SwappedOk = new(null, true, false);
    public static readonly KvOutput NotSwappedCurrentUnknown = new(null, false, false);

    public static KvOutput Read(string? value) => new(value, false, true);
    public static KvOutput NotSwapped(string? current) => new(current, false, true);
}

/// <summary>
/// One operation of a history. <see cref="Output"/> null means the outcome is unknown (timed out, 503 "unknown"):
/// the operation may or may not have taken effect, any time after its call, and <see cref="ReturnMs"/> is ignored
/// (treated as +infinity).
/// </summary>
public sealed record KvOperation(int ClientId, KvInput Input, long CallMs, long ReturnMs, KvOutput? Output)
{
    public static KvOperation Unknown(int clientId, KvInput input, long callMs) => new(clientId, input, callMs, long.MaxValue, null);

    public bool OutcomeUnknown => Output is null;

    public long EffectiveReturnMs => Output is null ? long.MaxValue : ReturnMs;

    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var result = Output switch
        {
            null => "?",
            _ when Input.Kind == KvOperationKind.Get => KvInput.Quote(Output.Value),
            _ when Input.Kind == KvOperationKind.Cas => Output.Swapped ? "swapped"
                : Output.CurrentKnown ? $"not swapped, current {KvInput.Quote(Output.Value)}" : "not swapped",
            _ => "ok",
        };
        var end = Output is null ? "?" : ReturnMs.ToString(c);
        return string.Create(c, $"client {ClientId} {Input} -> {result} [{CallMs}, {end}]");
    }
}

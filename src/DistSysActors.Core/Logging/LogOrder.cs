namespace DistSysActors.Core.Logging;

/// <summary>How records from many nodes are put in one sequence.</summary>
public enum LogOrderKind
{
    /// <summary>By (HLC, node, record id): consistent with happens-before, close to real time.</summary>
    Hlc,
    /// <summary>By (Lamport counter, node, record id): consistent with happens-before, no relation to real time.</summary>
    Lamport,
    /// <summary>By each node's own wall clock: misleads under clock skew (a receive can precede its send).</summary>
    Wall,
}

/// <summary>
/// Merge orders over <see cref="LogRecord"/>s. If event a happened before event b, a's HLC and Lamport stamps are
/// strictly smaller than b's (HLC paper, Kulkarni et al. 2014, theorem 1; Lamport 1978, clock condition), so sorting by
/// either puts every receive after its send whatever the wall clocks say; the node id and record id break ties so the
/// order is total and the same on every node.
/// </summary>
public static class LogOrder
{
    public static IComparer<LogRecord> Comparer(LogOrderKind kind) => kind switch
    {
        LogOrderKind.Hlc => ByHlc,
        LogOrderKind.Lamport => ByLamport,
        _ => ByWall,
    };

    public static readonly IComparer<LogRecord> ByHlc = Comparer<LogRecord>.Create((a, b) =>
        Chain(a.Hlc.CompareTo(b.Hlc), a, b));

    public static readonly IComparer<LogRecord> ByLamport = Comparer<LogRecord>.Create((a, b) =>
        Chain(a.Lamport.CompareTo(b.Lamport), a, b));

    public static readonly IComparer<LogRecord> ByWall = Comparer<LogRecord>.Create((a, b) =>
        Chain(a.TimestampMs.CompareTo(b.TimestampMs), a, b));

    /// <summary>Parses hlc, lamport or wall (any case); null when unknown.</summary>
    public static LogOrderKind? TryParse(string? text) => text?.ToLowerInvariant() switch
    {
        "hlc" => LogOrderKind.Hlc,
        "lamport" => LogOrderKind.Lamport,
        "wall" => LogOrderKind.Wall,
        _ => null,
    };

    /// <summary>Merges per-node record lists (each in any order) into one list in <paramref name="kind"/> order.</summary>
    public static List<LogRecord> Merge(IEnumerable<IEnumerable<LogRecord>> perNode, LogOrderKind kind = LogOrderKind.Hlc)
    {
        var all = perNode.SelectMany(r => r).DistinctBy(r => r.Id, StringComparer.Ordinal).ToList();
        all.Sort(Comparer(kind));
        return all;
    }

    /// <summary>
    /// Message sends and receives in <paramref name="ordered"/> whose receive comes before its send: the pairs the
    /// network component logs (<see cref="LogAttributes.MessageId"/> shared by a send and its receives). Empty when the
    /// order respects happens-before for every message.
    /// </summary>
    public static List<(LogRecord Send, LogRecord Receive)> ReceivesBeforeSends(IReadOnlyList<LogRecord> ordered)
    {
        var sendAt = new Dictionary<string, (int Position, LogRecord Record)>(StringComparer.Ordinal);
        for (var i = 0; i < ordered.Count; i++)
            if (ordered[i].Attribute(LogAttributes.Event) == LogAttributes.SendEvent && ordered[i].Attribute(LogAttributes.MessageId) is { } id)
                sendAt.TryAdd(id, (i, ordered[i]));
        var violations = new List<(LogRecord, LogRecord)>();
        for (var i = 0; i < ordered.Count; i++)
        {
            if (ordered[i].Attribute(LogAttributes.Event) != LogAttributes.ReceiveEvent || ordered[i].Attribute(LogAttributes.MessageId) is not { } id) continue;
            if (sendAt.TryGetValue(id, out var send) && send.Position > i) violations.Add((send.Record, ordered[i]));
        }
        return violations;
    }

    private static int Chain(int first, LogRecord a, LogRecord b)
    {
        if (first != 0) return first;
        var byNode = a.Node.CompareTo(b.Node);
        return byNode != 0 ? byNode : string.CompareOrdinal(a.Id, b.Id);
    }
}

/// <summary>Attribute names the pipeline itself writes.</summary>
public static class LogAttributes
{
    /// <summary>What kind of step a record is: send, receive, http, step.</summary>
    public const string Event = "event";
    public const string SendEvent = "send";
    public const string ReceiveEvent = "receive";
    /// <summary>Identifies one inter-node message: its sender node and the sender's HLC at the send ("node@wall.logical").</summary>
    public const string MessageId = "message.id";
    public const string Service = "service";
    public const string MessageType = "message.type";
    public const string Peer = "peer";
    public const string Protocol = "protocol";
    public const string Source = "source";
}

using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;

namespace DistSysActors.Core.Tests.Logging;

public class LogQueryTests
{
    private const string TraceA = "4bf92f3577b34da6a3ce929d0e0e4736";

    private static readonly LogRecord[] Records =
    [
        new("1", new NodeId(1), 0, 0, new HlcTimestamp(100, 0), 1, Severity.Info, "a", TraceA),
        new("2", new NodeId(2), 0, 0, new HlcTimestamp(200, 0), 2, Severity.Warn, "b", TraceA),
        new("3", new NodeId(2), 0, 0, new HlcTimestamp(300, 0), 3, Severity.Error, "c"),
        new("4", new NodeId(3), 0, 0, new HlcTimestamp(400, 0), 4, Severity.Debug, "d", TraceA),
    ];

    [Fact]
    public void Filters_Combine()
    {
        var (query, error) = LogQuery.Parse(TraceA.ToUpperInvariant(), "2", "warn", "150", "10");
        Assert.Null(error);
        Assert.Equal(["2"], query!.Apply(Records).Select(r => r.Id));
    }

    [Fact]
    public void Severity_IsAMinimum()
    {
        var query = LogQuery.Parse(null, null, "WARN", null, null).Query!;
        Assert.Equal(["2", "3"], query.Apply(Records).Select(r => r.Id));
    }

    [Fact]
    public void Limit_KeepsTheLatest_OrTheFirstAfterSince()
    {
        Assert.Equal(["3", "4"], LogQuery.Parse(null, null, null, null, "2").Query!.Apply(Records).Select(r => r.Id));
        Assert.Equal(["2", "3"], LogQuery.Parse(null, null, null, "100", "2").Query!.Apply(Records).Select(r => r.Id));
    }

    [Fact]
    public void Since_AcceptsIsoTime()
    {
        var query = LogQuery.Parse(null, null, null, "1970-01-01T00:00:00.250Z", null).Query!;
        Assert.Equal(["3", "4"], query.Apply(Records).Select(r => r.Id));
    }

    [Fact]
    public void BadParameters_AreAllNamed()
    {
        var (query, error) = LogQuery.Parse("xyz", "-1", "LOUD", "yesterday", "0");
        Assert.Null(query);
        foreach (var name in new[] { "trace", "node", "severity", "since", "limit" }) Assert.Contains(name, error);
    }
}

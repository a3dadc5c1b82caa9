using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.Tests.LogPipeline;

/// <summary>The node's SQLite log store: de-duplication by record id, its bound, durability across reopening, queries.</summary>
public sealed class LogStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "distsys-logstore-" + Guid.NewGuid().ToString("N"));
    private string File => Path.Combine(_dir, "logs.db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static LogRecord Record(int i, string? trace = null, Severity severity = Severity.Info) =>
        new($"1.a.{i}", new NodeId(1 + i % 3), 1_000 + i, 1_000 + i, new HlcTimestamp(5_000 + i, i % 2), i, severity, $"body {i}", trace, trace is null ? null : "00f067aa0ba902b7",
            NodeLog.Attributes(("k", i.ToString(System.Globalization.CultureInfo.InvariantCulture))));

    [Fact]
    public void A_record_written_twice_is_stored_once_and_reads_back_equal()
    {
        using var store = new LogStore(File, 100);
        var first = Enumerable.Range(0, 10).Select(i => Record(i)).ToList();
        Assert.Equal((10, 0L), store.Append(first));
        Assert.Equal((0, 0L), store.Append(first.Take(5).ToList()));
        Assert.Equal(10, store.Count);
        var back = store.Query(new LogQuery());
        Assert.Equal(first.Select(r => r.Id), back.Select(r => r.Id));
        Assert.Equal(first[3] with { Attributes = null }, back[3] with { Attributes = null });
        Assert.Equal("3", back[3].Attribute("k"));
    }

    [Fact]
    public void A_records_vector_clock_reads_back_equal_and_a_record_without_one_has_none()
    {
        using var store = new LogStore(File, 100);
        var vector = VectorClock.From([new VectorClockEntry(new NodeId(1), 4), new VectorClockEntry(new NodeId(3), 9)]);
        store.Append([Record(0) with { Vector = vector }, Record(1)]);
        var back = store.Query(new LogQuery());
        Assert.Equal(vector, back[0].Vector);
        Assert.Null(back[1].Vector);
    }

    [Fact]
    public void Beyond_its_bound_the_store_evicts_the_oldest_and_counts_them()
    {
        using var store = new LogStore(File, 25);
        Assert.Equal((20, 0L), store.Append(Enumerable.Range(0, 20).Select(i => Record(i)).ToList()));
        Assert.Equal((20, 15L), store.Append(Enumerable.Range(20, 20).Select(i => Record(i)).ToList()));
        Assert.Equal(25, store.Count);
        Assert.Equal(Enumerable.Range(15, 25).Select(i => $"1.a.{i}"), store.Query(new LogQuery()).Select(r => r.Id));
    }

    [Fact]
    public void Records_written_survive_closing_and_reopening_the_store()
    {
        using (var store = new LogStore(File, 100)) store.Append(Enumerable.Range(0, 7).Select(i => Record(i)).ToList());
        using var reopened = new LogStore(File, 100);
        Assert.Equal(7, reopened.Count);
        Assert.Equal(7, reopened.Query(new LogQuery()).Count);
    }

    [Fact]
    public void Queries_filter_in_the_database_and_take_the_latest_or_the_first_after_since()
    {
        const string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var store = new LogStore(File, 100);
        store.Append(Enumerable.Range(0, 30).Select(i => Record(i, i % 2 == 0 ? trace : null, i % 5 == 0 ? Severity.Warn : Severity.Info)).ToList());
        Assert.Equal(15, store.Query(new LogQuery(TraceId: trace)).Count);
        Assert.All(store.Query(new LogQuery(Node: new NodeId(2))), r => Assert.Equal(2, r.Node.Value));
        Assert.Equal(6, store.Query(new LogQuery(MinSeverity: Severity.Warn)).Count);
        Assert.Equal(["1.a.28", "1.a.29"], store.Query(new LogQuery(Limit: 2)).Select(r => r.Id));
        Assert.Equal(["1.a.11", "1.a.12"], store.Query(new LogQuery(SinceHlcMs: 5_010, Limit: 2)).Select(r => r.Id));
    }
}

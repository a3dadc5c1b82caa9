using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;
using Microsoft.Data.Sqlite;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// A node's log records on disk: one SQLite file (WAL), a table keyed by record id so a record written twice is stored
/// once, bounded to <c>recordsMax</c> rows (the oldest are evicted and counted). A batch is one transaction: once
/// <see cref="Append"/> returns, its records survive a crash of the process. Single-threaded (the shipper owns it).
/// </summary>
public sealed class LogStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly int _recordsMax;
    private long _count;

    public LogStore(string path, int recordsMax)
    {
        _recordsMax = recordsMax;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS log_records (
              seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, node INTEGER NOT NULL, ts INTEGER NOT NULL,
              observed INTEGER NOT NULL, hlc_wall INTEGER NOT NULL, hlc_logical INTEGER NOT NULL, lamport INTEGER NOT NULL,
              severity INTEGER NOT NULL, body TEXT NOT NULL, trace_id TEXT, span_id TEXT, attributes TEXT, vector TEXT);
            CREATE INDEX IF NOT EXISTS log_records_trace ON log_records(trace_id);
            CREATE INDEX IF NOT EXISTS log_records_hlc ON log_records(hlc_wall, hlc_logical);
            CREATE TABLE IF NOT EXISTS log_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """);
        AddVectorColumn();
        using var count = _connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM log_records";
        _count = (long)count.ExecuteScalar()!;
        using var cursor = _connection.CreateCommand();
        cursor.CommandText = "SELECT value FROM log_meta WHERE key = 'shipped_seq'";
        ShippedSeq = cursor.ExecuteScalar() is long shipped ? shipped : 0;
    }

    /// <summary>Rows up to this sequence number were accepted by the shipping channel (durably, in its outbox); 0 before any.</summary>
    public long ShippedSeq { get; private set; }

    /// <summary>Rows evicted by the bound before they were shipped: lost to the aggregator.</summary>
    public long EvictedUnshipped { get; private set; }

    /// <summary>Rows not yet accepted by the shipping channel.</summary>
    public long UnshippedCount
    {
        get
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM log_records WHERE seq > $cursor";
            command.Parameters.AddWithValue("$cursor", ShippedSeq);
            return (long)command.ExecuteScalar()!;
        }
    }

    /// <summary>Up to <paramref name="max"/> rows after <see cref="ShippedSeq"/>, oldest first, each with its sequence number.</summary>
    public List<(long Seq, LogRecord Record)> Unshipped(int max)
    {
        using var select = _connection.CreateCommand();
        select.CommandText = $"SELECT {Columns}, seq FROM log_records WHERE seq > $cursor ORDER BY seq LIMIT $limit";
        select.Parameters.AddWithValue("$cursor", ShippedSeq);
        select.Parameters.AddWithValue("$limit", max);
        var rows = new List<(long, LogRecord)>();
        using var reader = select.ExecuteReader();
        while (reader.Read()) rows.Add((reader.GetInt64(13), ReadRecord(reader)));
        return rows;
    }

    /// <summary>Moves the shipping cursor to <paramref name="seq"/>, durably (a restarted shipper resumes after it).</summary>
    public void MarkShipped(long seq)
    {
        if (seq <= ShippedSeq) return;
        using var command = _connection.CreateCommand();
        command.CommandText = "INSERT INTO log_meta (key, value) VALUES ('shipped_seq', $seq) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        command.Parameters.AddWithValue("$seq", seq);
        command.ExecuteNonQuery();
        ShippedSeq = seq;
    }

    /// <summary>Records stored now.</summary>
    public long Count => _count;

    /// <summary>Stores <paramref name="records"/> in one transaction (ids already stored are skipped); returns (inserted, evicted).</summary>
    public (int Inserted, long Evicted) Append(IReadOnlyList<LogRecord> records)
    {
        if (records.Count == 0) return (0, 0);
        using var tx = _connection.BeginTransaction();
        using var insert = _connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = """
            INSERT OR IGNORE INTO log_records (id, node, ts, observed, hlc_wall, hlc_logical, lamport, severity, body, trace_id, span_id, attributes, vector)
            VALUES ($id, $node, $ts, $observed, $hw, $hl, $lamport, $severity, $body, $trace, $span, $attributes, $vector)
            """;
        var p = new[] { "$id", "$node", "$ts", "$observed", "$hw", "$hl", "$lamport", "$severity", "$body", "$trace", "$span", "$attributes", "$vector" }
            .Select(name => insert.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();
        var inserted = 0;
        foreach (var r in records)
        {
            p[0].Value = r.Id;
            p[1].Value = r.Node.Value;
            p[2].Value = r.TimestampMs;
            p[3].Value = r.ObservedTimestampMs;
            p[4].Value = r.Hlc.WallMs;
            p[5].Value = r.Hlc.Logical;
            p[6].Value = r.Lamport;
            p[7].Value = (int)r.Severity;
            p[8].Value = r.Body;
            p[9].Value = (object?)r.TraceId ?? DBNull.Value;
            p[10].Value = (object?)r.SpanId ?? DBNull.Value;
            p[11].Value = r.Attributes is { Count: > 0 } a ? JsonSerializer.Serialize(a) : DBNull.Value;
            p[12].Value = r.Vector is { } v ? FormatVector(v) : DBNull.Value;
            inserted += insert.ExecuteNonQuery();
        }
        long evicted = 0, evictedUnshipped = 0;
        if (_count + inserted > _recordsMax)
        {
            using (var unshipped = _connection.CreateCommand())
            {
                unshipped.Transaction = tx;
                unshipped.CommandText = "SELECT COUNT(*) FROM (SELECT seq FROM log_records ORDER BY seq LIMIT $n) WHERE seq > $cursor";
                unshipped.Parameters.AddWithValue("$n", _count + inserted - _recordsMax);
                unshipped.Parameters.AddWithValue("$cursor", ShippedSeq);
                evictedUnshipped = (long)unshipped.ExecuteScalar()!;
            }
            using var evict = _connection.CreateCommand();
            evict.Transaction = tx;
            evict.CommandText = "DELETE FROM log_records WHERE seq IN (SELECT seq FROM log_records ORDER BY seq LIMIT $n)";
            evict.Parameters.AddWithValue("$n", _count + inserted - _recordsMax);
            evicted = evict.ExecuteNonQuery();
        }
        tx.Commit();
        _count += inserted - evicted;
        EvictedUnshipped += evictedUnshipped;
        return (inserted, evicted);
    }

    /// <summary>
    /// The records matching <paramref name="query"/>, in HLC order: with a since, the first <see cref="LogQuery.Limit"/>
    /// after it, otherwise the latest <see cref="LogQuery.Limit"/> (a merge of many nodes' answers then applies the limit again).
    /// </summary>
    public List<LogRecord> Query(LogQuery query)
    {
        using var select = _connection.CreateCommand();
        var where = new List<string>();
        if (query.TraceId is { } trace) { where.Add("trace_id = $trace"); select.Parameters.AddWithValue("$trace", trace); }
        if (query.Node is { } node) { where.Add("node = $node"); select.Parameters.AddWithValue("$node", node.Value); }
        if (query.MinSeverity is { } severity) { where.Add("severity >= $severity"); select.Parameters.AddWithValue("$severity", (int)severity); }
        if (query.SinceHlcMs is { } since) { where.Add("hlc_wall > $since"); select.Parameters.AddWithValue("$since", since); }
        var direction = query.SinceHlcMs is null ? "DESC" : "ASC";
        select.CommandText = $"""
            SELECT {Columns} FROM log_records
            {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY hlc_wall {direction}, hlc_logical {direction}, id {direction} LIMIT $limit
            """;
        select.Parameters.AddWithValue("$limit", query.Limit);
        var records = new List<LogRecord>();
        using var reader = select.ExecuteReader();
        while (reader.Read()) records.Add(ReadRecord(reader));
        if (direction == "DESC") records.Reverse();
        return records;
    }

    public void Dispose() => _connection.Dispose();

    private const string Columns = "id, node, ts, observed, hlc_wall, hlc_logical, lamport, severity, body, trace_id, span_id, attributes, vector";

    private static LogRecord ReadRecord(SqliteDataReader reader)
    {
        var attributes = reader.IsDBNull(11) ? null
            : JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(11))!.ToImmutableSortedDictionary(StringComparer.Ordinal);
        return new LogRecord(reader.GetString(0), new NodeId(reader.GetInt32(1)), reader.GetInt64(2), reader.GetInt64(3),
            new HlcTimestamp(reader.GetInt64(4), reader.GetInt64(5)), reader.GetInt64(6), (Severity)reader.GetInt32(7), reader.GetString(8),
            reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10), attributes,
            reader.IsDBNull(12) ? null : ParseVector(reader.GetString(12)));
    }

    /// <summary>A vector clock as stored: "node:counter" pairs in node order, comma-separated.</summary>
    public static string FormatVector(VectorClock vector) =>
        string.Join(',', vector.Entries.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Node.Value}:{e.Counter}")));

    public static VectorClock ParseVector(string text) => text.Length == 0 ? VectorClock.Empty : VectorClock.From(text.Split(',').Select(pair =>
    {
        var colon = pair.IndexOf(':');
        return new VectorClockEntry(new NodeId(int.Parse(pair.AsSpan(0, colon), CultureInfo.InvariantCulture)), long.Parse(pair.AsSpan(colon + 1), CultureInfo.InvariantCulture));
    }));

    // A store written before records carried vector clocks gains the column (its old records have none).
    private void AddVectorColumn()
    {
        using var columns = _connection.CreateCommand();
        columns.CommandText = "SELECT COUNT(*) FROM pragma_table_info('log_records') WHERE name = 'vector'";
        if ((long)columns.ExecuteScalar()! == 0) Execute("ALTER TABLE log_records ADD COLUMN vector TEXT");
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

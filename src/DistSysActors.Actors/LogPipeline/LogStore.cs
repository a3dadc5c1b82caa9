using System.Collections.Immutable;
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
              severity INTEGER NOT NULL, body TEXT NOT NULL, trace_id TEXT, span_id TEXT, attributes TEXT);
            CREATE INDEX IF NOT EXISTS log_records_trace ON log_records(trace_id);
            CREATE INDEX IF NOT EXISTS log_records_hlc ON log_records(hlc_wall, hlc_logical);
            """);
        using var count = _connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM log_records";
        _count = (long)count.ExecuteScalar()!;
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
            INSERT OR IGNORE INTO log_records (id, node, ts, observed, hlc_wall, hlc_logical, lamport, severity, body, trace_id, span_id, attributes)
            VALUES ($id, $node, $ts, $observed, $hw, $hl, $lamport, $severity, $body, $trace, $span, $attributes)
            """;
        var p = new[] { "$id", "$node", "$ts", "$observed", "$hw", "$hl", "$lamport", "$severity", "$body", "$trace", "$span", "$attributes" }
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
            inserted += insert.ExecuteNonQuery();
        }
        long evicted = 0;
        if (_count + inserted > _recordsMax)
        {
            using var evict = _connection.CreateCommand();
            evict.Transaction = tx;
            evict.CommandText = "DELETE FROM log_records WHERE seq IN (SELECT seq FROM log_records ORDER BY seq LIMIT $n)";
            evict.Parameters.AddWithValue("$n", _count + inserted - _recordsMax);
            evicted = evict.ExecuteNonQuery();
        }
        tx.Commit();
        _count += inserted - evicted;
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
            SELECT id, node, ts, observed, hlc_wall, hlc_logical, lamport, severity, body, trace_id, span_id, attributes FROM log_records
            {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY hlc_wall {direction}, hlc_logical {direction}, id {direction} LIMIT $limit
            """;
        select.Parameters.AddWithValue("$limit", query.Limit);
        var records = new List<LogRecord>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            var attributes = reader.IsDBNull(11) ? null
                : JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(11))!.ToImmutableSortedDictionary(StringComparer.Ordinal);
            records.Add(new LogRecord(reader.GetString(0), new NodeId(reader.GetInt32(1)), reader.GetInt64(2), reader.GetInt64(3),
                new HlcTimestamp(reader.GetInt64(4), reader.GetInt64(5)), reader.GetInt64(6), (Severity)reader.GetInt32(7), reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10), attributes));
        }
        if (direction == "DESC") records.Reverse();
        return records;
    }

    public void Dispose() => _connection.Dispose();

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using DistSysActors.Actors.Persistence;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Microsoft.Data.Sqlite;

namespace DistSysActors.Benchmarks;

/// <summary>One way of making a small event durable; <see cref="WriteAsync"/> completes once it is.</summary>
public interface IJournalTarget : IAsyncDisposable
{
    string Name { get; }

    Task WriteAsync();

    /// <summary>Per-write time spent inside the journal plugin's WriteMessagesAsync, in Stopwatch ticks, when measured.</summary>
    ConcurrentQueue<long>? PluginTicks => null;
}

/// <summary>
/// The targets the journal benchmark knows. Akka.Persistence.Sql variants are written
/// <c>sqlite{key = value, ...}</c>: the braces are HOCON laid over <c>akka.persistence.journal.sql</c>.
/// </summary>
public static class JournalTargets
{
    public const string Help = """
        raw                  Microsoft.Data.Sqlite on one open connection: prepared INSERT, BEGIN/COMMIT, WAL, synchronous=FULL
        raw-per-write        as Akka.Persistence.Sql's inner step: pooled connection opened per write, async BEGIN/INSERT/COMMIT
        linq2db              as Akka.Persistence.Sql's inner step through linq2db: DataConnection per write, InsertAsync in a transaction
                             (both open connections without pragmas, as Akka.Persistence.Sql does: SQLite's default synchronous)
        memory               a persistent actor on Akka's in-memory journal (the actor path without a disk)
        sqlite               a persistent actor on Akka.Persistence.Sql as SqlitePersistence.Prepare configures it
        sqlite{hocon}        the same with HOCON laid over akka.persistence.journal.sql, e.g. sqlite{parallelism = 1}
        sqlite-direct        a persistent actor on the project's own SQLite journal (SqliteDirectPersistence)
        """;

    public static readonly byte[] Payload = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    /// <summary>Creates <paramref name="spec"/> over a new database under <paramref name="directory"/>; <paramref name="timed"/> also records time inside the journal plugin.</summary>
    public static async Task<IJournalTarget> CreateAsync(string spec, string directory, bool timed)
    {
        var safe = new string(spec.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
        var database = Path.Combine(directory, safe, "bench.db");
        Directory.CreateDirectory(Path.GetDirectoryName(database)!);
        if (spec == "raw") return new RawSqliteTarget(spec, database);
        if (spec == "raw-per-write") return new PerWriteSqliteTarget(spec, database);
        if (spec == "linq2db") return new Linq2DbTarget(spec, database);
        if (spec == "memory")
            return await ActorTarget.StartAsync(spec, ConfigurationFactory.ParseString("""
                akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
                akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
                """), null);
        if (spec == "sqlite-direct")
        {
            var config = SqliteDirectPersistence.Prepare(database);
            if (timed) config = TimedJournals.WithTiming(config, SqliteDirectPersistence.JournalPluginId, typeof(TimedSqliteDirectJournal), spec);
            return await ActorTarget.StartAsync(spec, config, timed ? TimedJournals.Ticks(spec) : null);
        }
        if (spec == "sqlite" || (spec.StartsWith("sqlite{", StringComparison.Ordinal) && spec.EndsWith('}')))
        {
            var overlay = spec == "sqlite" ? "" : spec["sqlite{".Length..^1];
            var config = ConfigurationFactory.ParseString($"akka.persistence.journal.sql {{ {overlay} }}")
                .WithFallback(SqlitePersistence.Prepare(database));
            if (timed) config = TimedJournals.WithTiming(config, "akka.persistence.journal.sql", typeof(TimedSqlWriteJournal), spec);
            return await ActorTarget.StartAsync(spec, config, timed ? TimedJournals.Ticks(spec) : null);
        }
        throw new ArgumentException($"unknown journal target '{spec}'; known:\n{Help}");
    }

    internal static SqliteConnection OpenWal(string database)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        return connection;
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    internal const string CreateTable =
        "CREATE TABLE IF NOT EXISTS bench_events (ordering INTEGER PRIMARY KEY AUTOINCREMENT, persistence_id TEXT NOT NULL, " +
        "sequence_nr INTEGER NOT NULL, serializer_id INTEGER NOT NULL, manifest TEXT NOT NULL, payload BLOB NOT NULL, created INTEGER NOT NULL)";
}

/// <summary>(b) the floor: one open connection, a prepared insert, one transaction and one fsync per write.</summary>
internal sealed class RawSqliteTarget : IJournalTarget
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insert;
    private long _sequenceNr;

    public RawSqliteTarget(string name, string database)
    {
        Name = name;
        _connection = JournalTargets.OpenWal(database);
        JournalTargets.Execute(_connection, JournalTargets.CreateTable);
        _insert = _connection.CreateCommand();
        _insert.CommandText = "INSERT INTO bench_events (persistence_id, sequence_nr, serializer_id, manifest, payload, created) VALUES ($p, $s, 4, '', $b, $t)";
        _insert.Parameters.Add("$p", SqliteType.Text).Value = "bench";
        _insert.Parameters.Add("$s", SqliteType.Integer);
        _insert.Parameters.Add("$b", SqliteType.Blob).Value = JournalTargets.Payload;
        _insert.Parameters.Add("$t", SqliteType.Integer);
        _insert.Prepare();
    }

    public string Name { get; }

    public Task WriteAsync()
    {
        using var transaction = _connection.BeginTransaction();
        _insert.Transaction = transaction;
        _insert.Parameters["$s"].Value = ++_sequenceNr;
        _insert.Parameters["$t"].Value = DateTime.UtcNow.Ticks;
        _insert.ExecuteNonQuery();
        transaction.Commit();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _insert.Dispose();
        _connection.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// What Akka.Persistence.Sql does per batch minus linq2db: a pooled connection opened for the write, a new command,
/// async BEGIN/INSERT/COMMIT. The difference to <see cref="RawSqliteTarget"/> is the connection per write.
/// </summary>
internal sealed class PerWriteSqliteTarget : IJournalTarget
{
    private readonly string _connectionString;
    private long _sequenceNr;

    public PerWriteSqliteTarget(string name, string database)
    {
        Name = name;
        using (var setup = JournalTargets.OpenWal(database)) JournalTargets.Execute(setup, JournalTargets.CreateTable);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = database }.ToString();
    }

    public string Name { get; }

    public async Task WriteAsync()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var insert = connection.CreateCommand();
        insert.Transaction = (SqliteTransaction)transaction;
        insert.CommandText = "INSERT INTO bench_events (persistence_id, sequence_nr, serializer_id, manifest, payload, created) VALUES ($p, $s, 4, '', $b, $t)";
        insert.Parameters.AddWithValue("$p", "bench");
        insert.Parameters.AddWithValue("$s", ++_sequenceNr);
        insert.Parameters.AddWithValue("$b", JournalTargets.Payload);
        insert.Parameters.AddWithValue("$t", DateTime.UtcNow.Ticks);
        await insert.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Akka.Persistence.Sql's inner write step through linq2db (DataConnection per write, InsertAsync, commit).</summary>
internal sealed class Linq2DbTarget : IJournalTarget
{
    [Table("bench_events")]
    public sealed class Row
    {
        [Column("ordering"), PrimaryKey, Identity] public long Ordering { get; set; }
        [Column("persistence_id")] public string PersistenceId { get; set; } = "";
        [Column("sequence_nr")] public long SequenceNr { get; set; }
        [Column("serializer_id")] public int SerializerId { get; set; }
        [Column("manifest")] public string Manifest { get; set; } = "";
        [Column("payload")] public byte[] Payload { get; set; } = [];
        [Column("created")] public long Created { get; set; }
    }

    private readonly DataOptions _options;
    private long _sequenceNr;

    public Linq2DbTarget(string name, string database)
    {
        Name = name;
        using (var setup = JournalTargets.OpenWal(database)) JournalTargets.Execute(setup, JournalTargets.CreateTable);
        _options = new DataOptions().UseConnectionString(ProviderName.SQLiteMS, new SqliteConnectionStringBuilder { DataSource = database }.ToString());
    }

    public string Name { get; }

    public async Task WriteAsync()
    {
        await using var connection = new DataConnection(_options);
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.InsertAsync(new Row
        {
            PersistenceId = "bench", SequenceNr = ++_sequenceNr, SerializerId = 4, Payload = JournalTargets.Payload, Created = DateTime.UtcNow.Ticks,
        });
        await transaction.CommitAsync();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A persistent actor that persists one event per command (PersistAllAsync, as the durable protocol host does).</summary>
internal sealed class ActorTarget : IJournalTarget
{
    private sealed record Write(TaskCompletionSource Done);

    private sealed class Writer : ReceivePersistentActor
    {
        public override string PersistenceId => "bench-writer";

        public Writer()
        {
            Command<Write>(w => PersistAllAsync(new object[] { JournalTargets.Payload }, _ => w.Done.TrySetResult()));
        }
    }

    private readonly ActorSystem _system;
    private readonly IActorRef _writer;

    private ActorTarget(string name, ActorSystem system, IActorRef writer, ConcurrentQueue<long>? pluginTicks)
    {
        Name = name;
        _system = system;
        _writer = writer;
        PluginTicks = pluginTicks;
    }

    public string Name { get; }

    public ConcurrentQueue<long>? PluginTicks { get; }

    public static async Task<ActorTarget> StartAsync(string name, Config persistence, ConcurrentQueue<long>? pluginTicks)
    {
        var config = persistence
            .WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING"));
        var system = ActorSystem.Create("journal-bench", config);
        var target = new ActorTarget(name, system, system.ActorOf(Props.Create(() => new Writer()), "writer"), pluginTicks);
        // The first write waits for recovery (and the tables' creation).
        var first = new TaskCompletionSource();
        target._writer.Tell(new Write(first));
        await first.Task.WaitAsync(TimeSpan.FromMinutes(2));
        pluginTicks?.Clear();
        return target;
    }

    public Task WriteAsync()
    {
        // Asynchronous continuations: the caller does not go on inside the writer actor's handler.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _writer.Tell(new Write(done));
        return done.Task;
    }

    public async ValueTask DisposeAsync() => await _system.Terminate();
}

/// <summary>Journal plugins that record how long each WriteMessagesAsync takes, from the call until its task completes.</summary>
public static class TimedJournals
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<long>> ByName = new();

    public static ConcurrentQueue<long> Ticks(string name) => ByName.GetOrAdd(name, _ => new ConcurrentQueue<long>());

    internal static async Task<T> Time<T>(ConcurrentQueue<long> ticks, Func<Task<T>> write)
    {
        var start = Stopwatch.GetTimestamp();
        try { return await write().ConfigureAwait(false); }
        finally { ticks.Enqueue(Stopwatch.GetTimestamp() - start); }
    }

    /// <summary>Points <paramref name="plugin"/>'s class at <paramref name="timedClass"/>, recording under <paramref name="name"/>.</summary>
    public static Config WithTiming(Config config, string plugin, Type timedClass, string name) =>
        ConfigurationFactory.ParseString($"{plugin} {{ class = \"{timedClass.FullName}, {timedClass.Assembly.GetName().Name}\", bench-name = \"{name}\" }}")
            .WithFallback(config);
}

/// <summary>Akka.Persistence.Sql's journal, timed.</summary>
public sealed class TimedSqlWriteJournal(Config config) : SqlWriteJournal(config)
{
    private readonly ConcurrentQueue<long> _ticks = TimedJournals.Ticks(config.GetString("bench-name"));

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken) =>
        TimedJournals.Time(_ticks, () => base.WriteMessagesAsync(messages, cancellationToken));
}

/// <summary>The project's own SQLite journal, timed.</summary>
public sealed class TimedSqliteDirectJournal(Config config) : SqliteDirectJournal(config)
{
    private readonly ConcurrentQueue<long> _ticks = TimedJournals.Ticks(config.GetString("bench-name"));

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken) =>
        TimedJournals.Time(_ticks, () => base.WriteMessagesAsync(messages, cancellationToken));
}

using Akka.Configuration;
using Microsoft.Data.Sqlite;

namespace DistSysActors.Actors.Persistence;

/// <summary>Akka.Persistence.Sql on one SQLite file per node, `<data-dir>/node-I/distsys.db` (README: Persistence).</summary>
public static class SqlitePersistence
{
    /// <summary>The values of <c>distsys.persistence.journal</c>.</summary>
    public static readonly string[] JournalKinds = ["sqlite", "sqlite-direct", "postgresql", "memory"];

    /// <summary>
    /// The akka.persistence configuration for a <c>distsys.persistence.journal</c> value: "sqlite" (Akka.Persistence.Sql,
    /// <see cref="Prepare"/>), "sqlite-direct" (this project's journal, <see cref="SqliteDirectPersistence.Prepare"/>),
    /// both on <paramref name="databasePath"/>, "postgresql" (Akka.Persistence.Sql on PostgreSQL, <see cref="PostgresPersistence"/>:
    /// the connection string comes from <paramref name="distsys"/> or the environment), or "memory" (Akka's in-memory
    /// journal and snapshot store).
    /// </summary>
    public static Config ForJournal(string journal, string databasePath, Config? distsys = null) => journal switch
    {
        "sqlite" => Prepare(databasePath),
        "sqlite-direct" => SqliteDirectPersistence.Prepare(databasePath),
        "postgresql" => PostgresPersistence.Prepare(PostgresPersistence.ConnectionString(distsys ?? Config.Empty)),
        "memory" => ConfigurationFactory.ParseString("""
            akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
            """),
        _ => throw new ArgumentException($"unknown journal '{journal}': one of {string.Join(", ", JournalKinds)}", nameof(journal)),
    };

    /// <summary>Whether a journal keeps its state across restarts (every kind but "memory").</summary>
    public static bool IsDurable(string journal) => journal != "memory";

    /// <summary>Whether a journal keeps its state in the node's own database file under its data dir (the SQLite kinds).</summary>
    public static bool IsFile(string journal) => journal is "sqlite" or "sqlite-direct";

    /// <summary>
    /// Creates the database file if needed and switches it to WAL mode (a property of the file, which
    /// the connection string cannot set), then returns the HOCON that points the journal and snapshot
    /// store at it. Call before the actor system starts.
    /// </summary>
    /// <remarks>
    /// Akka.Persistence.Sql opens its connections without pragmas, so they run with SQLite's default
    /// <c>synchronous = FULL</c>: every acknowledged write is fsynced (the journal benchmark prints the value it finds).
    /// </remarks>
    public static Config Prepare(string databasePath)
    {
        var connectionString = EnableWal(databasePath);
        var quoted = Quote(connectionString);
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal.plugin = "akka.persistence.journal.sql"
              journal.sql {
                class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
                connection-string = {{quoted}}
                provider-name = "SQLite.MS"
                auto-initialize = true
                # The first recovery also creates the tables; on a loaded machine that can take longer than 30 s.
                recovery-event-timeout = 120s
                # A new linq2db connection per write instead of a clone of a shared one: 0.03-0.05 ms less per write
                # and 10-25% less CPU (docs/benchmarks.md, "Journal writes"); durability is unchanged.
                use-clone-connection = false
              }
              snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
              snapshot-store.sql {
                class = "Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql"
                connection-string = {{quoted}}
                provider-name = "SQLite.MS"
                auto-initialize = true
                use-clone-connection = false
              }
            }
            """);
    }

    /// <summary>Creates the file and its directory if needed, switches it to WAL mode and returns its connection string.</summary>
    internal static string EnableWal(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(databasePath) }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"SQLite refused WAL mode for {databasePath} (mode is {mode})");
        return connectionString;
    }

    /// <summary>A HOCON string literal.</summary>
    internal static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}

using Akka.Configuration;
using Microsoft.Data.Sqlite;

namespace DistSysActors.Actors.Persistence;

/// <summary>Akka.Persistence.Sql on one SQLite file per node, `<data-dir>/node-I/distsys.db` (README: Persistence).</summary>
public static class SqlitePersistence
{
    /// <summary>
    /// Creates the database file if needed and switches it to WAL mode (a property of the file, which
    /// the connection string cannot set), then returns the HOCON that points the journal and snapshot
    /// store at it. Call before the actor system starts.
    /// </summary>
    public static Config Prepare(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(databasePath) }.ToString();
        using (var connection = new SqliteConnection(connectionString))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            var mode = command.ExecuteScalar() as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"SQLite refused WAL mode for {databasePath} (mode is {mode})");
        }
        var quoted = "\"" + connectionString.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
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
              }
              snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
              snapshot-store.sql {
                class = "Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql"
                connection-string = {{quoted}}
                provider-name = "SQLite.MS"
                auto-initialize = true
              }
            }
            """);
    }
}

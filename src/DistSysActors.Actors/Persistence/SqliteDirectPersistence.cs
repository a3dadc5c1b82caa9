using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Microsoft.Data.Sqlite;

namespace DistSysActors.Actors.Persistence;

/// <summary>
/// The project's own journal and snapshot store on SQLite (<c>distsys.persistence.journal = sqlite-direct</c>): one
/// open Microsoft.Data.Sqlite connection per plugin, prepared statements, WAL with <c>synchronous = FULL</c> (every
/// acknowledged write is fsynced), in the tables <see cref="EventsTable"/> and <see cref="SnapshotsTable"/> of the
/// node's database file, beside Akka.Persistence.Sql's tables if both were used (README: Persistence).
/// </summary>
public static class SqliteDirectPersistence
{
    public const string JournalPluginId = "akka.persistence.journal.sqlite-direct";
    public const string SnapshotPluginId = "akka.persistence.snapshot-store.sqlite-direct";

    public const string EventsTable = "distsys_events";
    public const string SnapshotsTable = "distsys_snapshots";

    /// <summary>
    /// Creates the database file if needed and switches it to WAL mode, then returns the HOCON that makes
    /// <see cref="SqliteDirectJournal"/> and <see cref="SqliteDirectSnapshotStore"/> the default plugins on it. Call
    /// before the actor system starts. The plugins create their tables when they start.
    /// </summary>
    public static Config Prepare(string databasePath)
    {
        SqlitePersistence.EnableWal(databasePath);
        var database = SqlitePersistence.Quote(Path.GetFullPath(databasePath));
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal.plugin = "{{JournalPluginId}}"
              journal.sqlite-direct {
                class = "{{typeof(SqliteDirectJournal).FullName}}, {{typeof(SqliteDirectJournal).Assembly.GetName().Name}}"
                database = {{database}}
                # Replaying a long journal on a loaded machine can pause longer than Akka's default 30 s between events.
                recovery-event-timeout = 120s
              }
              snapshot-store.plugin = "{{SnapshotPluginId}}"
              snapshot-store.sqlite-direct {
                class = "{{typeof(SqliteDirectSnapshotStore).FullName}}, {{typeof(SqliteDirectSnapshotStore).Assembly.GetName().Name}}"
                database = {{database}}
              }
            }
            """);
    }

    /// <summary>The plugin's <c>database</c> setting: the path of the SQLite file.</summary>
    internal static string DatabaseOf(Config pluginConfig, string pluginId)
    {
        var database = pluginConfig.GetString("database", null);
        if (string.IsNullOrWhiteSpace(database))
            throw new ConfigurationException($"{pluginId}.database is missing: the path of the SQLite file (SqliteDirectPersistence.Prepare sets it)");
        return database;
    }

    /// <summary>
    /// Opens the one connection a plugin keeps: WAL (refused otherwise), <c>synchronous = FULL</c>, and the table it
    /// owns created if missing. No pooling: the connection lives as long as the plugin actor.
    /// </summary>
    internal static SqliteConnection Open(string database, string createTable)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(database),
            Pooling = false,
            Mode = SqliteOpenMode.ReadWriteCreate,
        }.ToString());
        try
        {
            connection.Open();
            var mode = Scalar(connection, "PRAGMA journal_mode=WAL;") as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"SQLite refused WAL mode for {database} (mode is {mode})");
            Execute(connection, "PRAGMA synchronous=FULL;");
            var synchronous = Convert.ToInt64(Scalar(connection, "PRAGMA synchronous;"));
            if (synchronous < 2)
                throw new InvalidOperationException($"SQLite kept synchronous = {synchronous} for {database}: writes would not be fsynced");
            Execute(connection, createTable);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    internal static SqliteCommand Prepared(SqliteConnection connection, string sql, params (string Name, SqliteType Type)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, type) in parameters) command.Parameters.Add(name, type);
        command.Prepare();
        return command;
    }

    /// <summary>
    /// A payload in the form Akka.Persistence.Sql stores it: the serializer's id, its manifest and the bytes, found
    /// through the actor system's serialization bindings (actor references are written with the system's address).
    /// </summary>
    internal static (int SerializerId, string Manifest, byte[] Bytes) Serialize(ExtendedActorSystem system, object payload)
    {
        var serializer = system.Serialization.FindSerializerFor(payload);
        var bytes = Akka.Serialization.Serialization.WithTransport(system, (serializer, payload), static s => s.serializer.ToBinary(s.payload));
        return (serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, payload), bytes);
    }

    internal static object Deserialize(ExtendedActorSystem system, int serializerId, string manifest, byte[] bytes) =>
        system.Serialization.Deserialize(bytes, serializerId, manifest);

    /// <summary>A snapshot selection's bounds as SQL parameters (timestamps as <see cref="DateTime.Ticks"/>).</summary>
    internal static void BindCriteria(SqliteCommand command, SnapshotSelectionCriteria criteria)
    {
        command.Parameters["$minSeq"].Value = criteria.MinSequenceNr;
        command.Parameters["$maxSeq"].Value = criteria.MaxSequenceNr;
        command.Parameters["$minTs"].Value = (criteria.MinTimestamp ?? DateTime.MinValue).Ticks;
        command.Parameters["$maxTs"].Value = criteria.MaxTimeStamp.Ticks;
    }
}

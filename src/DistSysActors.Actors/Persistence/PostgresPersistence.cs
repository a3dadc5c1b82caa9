using Akka.Configuration;

namespace DistSysActors.Actors.Persistence;

/// <summary>
/// Akka.Persistence.Sql on PostgreSQL through Npgsql (distsys.persistence.journal = postgresql): journal and snapshot
/// store in one database, shared by the nodes of a cluster (every persistence id carries its node's id). The connection
/// string comes from distsys.persistence.postgresql.connection-string, else from the environment variable
/// <see cref="ConnectionStringVariable"/>.
/// </summary>
public static class PostgresPersistence
{
    public const string Section = "distsys.persistence.postgresql";
    public const string ConnectionStringVariable = "DISTSYS_POSTGRES_CONNECTION_STRING";

    /// <summary>The connection string from the configuration, else the environment; fails naming both when neither has one.</summary>
    public static string ConnectionString(Config distsys)
    {
        var configured = distsys.HasPath($"{Section}.connection-string") ? distsys.GetString($"{Section}.connection-string") : null;
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        var fromEnvironment = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return fromEnvironment;
        throw new ConfigurationException($"distsys.persistence.journal = postgresql needs a connection string: {Section}.connection-string " +
                                         $"or the environment variable {ConnectionStringVariable} (e.g. Host=db1;Port=5432;Database=distsys;Username=distsys;Password=...)");
    }

    /// <summary>The akka.persistence configuration for PostgreSQL at <paramref name="connectionString"/>; tables are created on first use.</summary>
    public static Config Prepare(string connectionString)
    {
        var quoted = SqlitePersistence.Quote(connectionString);
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal.plugin = "akka.persistence.journal.sql"
              journal.sql {
                class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
                connection-string = {{quoted}}
                # linq2db's PostgreSQL 15 dialect (Npgsql); later servers speak it too.
                provider-name = "PostgreSQL.15"
                auto-initialize = true
                recovery-event-timeout = 120s
              }
              snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
              snapshot-store.sql {
                class = "Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql"
                connection-string = {{quoted}}
                provider-name = "PostgreSQL.15"
                auto-initialize = true
              }
            }
            """);
    }
}

using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Persistence;
using DistSysActors.Node.Commands;

namespace DistSysActors.Node.Tests.Persistence;

/// <summary>distsys.persistence.journal = postgresql: the HOCON it gives, and a missing connection string failing before anything starts.</summary>
public class PostgresSettingsTests
{
    private const string Connection = "Host=db1;Port=5432;Database=distsys;Username=distsys;Password=secret";

    [Fact]
    public void Postgresql_points_journal_and_snapshot_store_at_the_connection_string_with_npgsql()
    {
        var config = NodeCommand.BuildConfig(1, 3, 4050, 8080, Path.GetTempPath(),
            ["distsys.persistence.journal=postgresql", $"distsys.persistence.postgresql.connection-string={Connection}"]).WithFallback(DistSysConfig.Reference);
        var host = HostSettings.Create(config);
        Assert.True(host.DurableJournal);
        Assert.False(host.FileJournal);
        Assert.Equal(Connection, host.PostgresConnectionString);
        var akka = DistSysNodeRuntime.NodeConfig(config, joinOthersOnly: false);
        Assert.Equal("akka.persistence.journal.sql", akka.GetString("akka.persistence.journal.plugin"));
        Assert.Equal("akka.persistence.snapshot-store.sql", akka.GetString("akka.persistence.snapshot-store.plugin"));
        foreach (var store in new[] { "journal", "snapshot-store" })
        {
            Assert.Equal(Connection, akka.GetString($"akka.persistence.{store}.sql.connection-string"));
            Assert.StartsWith("PostgreSQL", akka.GetString($"akka.persistence.{store}.sql.provider-name"));
        }
    }

    [Fact]
    public void Without_a_connection_string_the_node_refuses_to_start_naming_the_key_and_the_environment_variable()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresPersistence.ConnectionStringVariable))) return;
        var e = Assert.Throws<CommandException>(() => NodeCommand.BuildConfig(1, 3, 4050, 8080, Path.GetTempPath(), ["distsys.persistence.journal=postgresql"]));
        Assert.Contains("distsys.persistence.postgresql.connection-string", e.Message);
        Assert.Contains(PostgresPersistence.ConnectionStringVariable, e.Message);
    }

    [Fact]
    public void The_environment_supplies_the_connection_string_when_the_configuration_has_none()
    {
        var config = ConfigurationFactory.ParseString("distsys.persistence.postgresql.connection-string = \"\"");
        var before = Environment.GetEnvironmentVariable(PostgresPersistence.ConnectionStringVariable);
        try
        {
            Environment.SetEnvironmentVariable(PostgresPersistence.ConnectionStringVariable, Connection);
            Assert.Equal(Connection, PostgresPersistence.ConnectionString(config));
            // A configured string wins over the environment.
            Assert.Equal("Host=other", PostgresPersistence.ConnectionString(ConfigurationFactory.ParseString("distsys.persistence.postgresql.connection-string = \"Host=other\"")));
        }
        finally { Environment.SetEnvironmentVariable(PostgresPersistence.ConnectionStringVariable, before); }
    }
}

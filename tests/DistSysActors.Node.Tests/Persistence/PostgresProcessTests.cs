using DistSysActors.Node.Tests.Processes;
using Npgsql;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Persistence;

/// <summary>
/// The Raft group on PostgreSQL (distsys.persistence.journal = postgresql): three nodes write their journals into one
/// throwaway server; after kill -9 of every node the cluster comes back with every acknowledged write, read from the
/// database (no node has a SQLite file). Skipped, saying why, where PostgreSQL is not installed.
/// </summary>
public sealed class PostgresProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_raft_group_on_postgresql_keeps_every_acknowledged_write_across_kill_9_of_every_node()
    {
        var (server, reason) = PostgresServer.TryStart();
        if (server is null)
        {
            output.WriteLine($"SKIPPED: no PostgreSQL server can be started here: {reason}");
            return;
        }
        using var _ = server;
        using var cluster = new ProcessCluster(3)
        {
            NodeArgs = ["--set", "distsys.persistence.journal=postgresql", "--set", $"distsys.persistence.postgresql.connection-string={server.ConnectionString}"],
        };
        cluster.StartAll();
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(240), "every node on PostgreSQL is ready");
        var values = Enumerable.Range(1, 10).ToDictionary(i => $"pg-{i}", i => $"value-{i}");
        foreach (var (index, (key, value)) in values.Index())
        {
            // Through every node in turn: followers forward to the leader.
            using var client = cluster.Client(1 + index % 3);
            await cluster.AwaitAsync(async () => (await client.SendAsync(HttpMethod.Put, $"/kv/{key}", new StringContent(value))).Code == 200,
                TimeSpan.FromSeconds(60), $"PUT /kv/{key} is acknowledged");
        }
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(DISTINCT persistence_id) FROM journal WHERE persistence_id LIKE 'raft-%'", connection);
            var raftJournals = (long)(await count.ExecuteScalarAsync())!;
            output.WriteLine($"Raft journals in PostgreSQL: {raftJournals}");
            Assert.Equal(3, raftJournals);
        }

        for (var i = 1; i <= 3; i++) cluster.Kill(i);
        for (var i = 1; i <= 3; i++) Assert.False(File.Exists(Path.Combine(cluster.DataDir, $"node-{i}", "distsys.db")), $"node {i} has a SQLite file");
        for (var i = 1; i <= 3; i++) cluster.Start(i);
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(240), "every node is ready again after kill -9");
        for (var i = 1; i <= 3; i++)
        {
            using var client = cluster.Client(i);
            foreach (var (key, value) in values)
                await cluster.AwaitAsync(async () => await client.SendAsync(HttpMethod.Get, $"/kv/{key}") is (200, var body) && body == value,
                    TimeSpan.FromSeconds(60), $"node {i} reads {key} = {value} after the restart");
        }
        using var writer = cluster.Client(2);
        await cluster.AwaitAsync(async () => (await writer.SendAsync(HttpMethod.Put, "/kv/after", new StringContent("restart"))).Code == 200,
            TimeSpan.FromSeconds(60), "a new write after the restart is acknowledged");
    }
}

using Akka.Actor;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;
using DistSysActors.Core.KeyValue;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static DistSysActors.Actors.KeyValue.KvProtocol;
using static DistSysActors.Actors.Raft.RaftProtocol;
using static DistSysActors.Actors.Tests.Raft.RaftActorCluster;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>Snapshots and journal truncation on the production store: Akka.Persistence.Sql on a SQLite file.</summary>
[Collection(RaftActorCollection.Name)]
public sealed class RaftSqliteSpec : TestKit
{
    private const int SnapshotEntries = 20;
    private readonly string _database;

    public RaftSqliteSpec(ITestOutputHelper output) : this(output, Path.Combine(Path.GetTempPath(), $"raft-sqlite-{Guid.NewGuid():N}", "node.db"))
    {
    }

    private RaftSqliteSpec(ITestOutputHelper output, string database)
        : base(SqlitePersistence.Prepare(database).WithFallback(RaftActorCluster.Config), "raft-sqlite-spec", output)
    {
        _database = database;
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path.GetDirectoryName(_database)!, recursive: true); } catch (IOException) { }
    }

    private long JournalRows(string persistenceId)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _database }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $pid";
        command.Parameters.AddWithValue("$pid", persistenceId);
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public void The_sqlite_journal_stays_bounded_and_a_restart_recovers_from_snapshot_and_tail()
    {
        var settings = RaftSettings.Create(RaftActorCluster.Config) with { SnapshotEntries = SnapshotEntries, CompactionMarginEntries = 0 };
        var id = new NodeId(61);
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var node = Start(this, network, id, [id], settings, "sqlite-1");
        AwaitLeader(this, new Dictionary<NodeId, IActorRef> { [id] = node }); // the first recovery creates the tables: can be slow
        const int writes = 80;
        for (var i = 0; i < writes; i++)
        {
            node.Tell(new Put($"k{i}", $"v{i}"));
            Assert.Equal(KvStatus.Ok, ExpectMsg<WriteResult>(TimeSpan.FromSeconds(10)).Status);
        }
        NodeStatus before = null!;
        AwaitAssert(() =>
        {
            before = StatusOf(node);
            Assert.True(before.Raft.SnapshotIndex >= writes - SnapshotEntries, $"snapshot at {before.Raft.SnapshotIndex}");
            Assert.False(before.SnapshotSaving);
            // Two events per write at most without truncation; with it, about those after the last snapshot.
            Assert.InRange(JournalRows($"raft-node-{id.Value}"), 1, 2 * SnapshotEntries + 4);
        }, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        Stop(this, node);

        var restarted = Start(this, network, id, [id], settings, "sqlite-2");
        var recovered = StatusOf(restarted);
        Assert.Equal(before.Raft.SnapshotIndex, recovered.Raft.SnapshotIndex);
        Assert.True(recovered.Raft.LastLogIndex >= before.Raft.LastLogIndex, "log entries after the snapshot were lost");
        AwaitAssert(() =>
        {
            for (var i = 0; i < writes; i++)
            {
                restarted.Tell(new Get($"k{i}", Consistency.Stale));
                Assert.Equal($"v{i}", ExpectMsg<ReadResult>().Value);
            }
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
    }
}

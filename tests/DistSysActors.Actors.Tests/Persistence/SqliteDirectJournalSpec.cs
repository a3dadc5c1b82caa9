using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Raft;
using DistSysActors.Actors.Tests.Raft;
using DistSysActors.Core;
using DistSysActors.Core.KeyValue;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static DistSysActors.Actors.KeyValue.KvProtocol;
using static DistSysActors.Actors.Raft.RaftProtocol;
using static DistSysActors.Actors.Tests.Raft.RaftActorCluster;

namespace DistSysActors.Actors.Tests.Persistence;

/// <summary>
/// The project's own SQLite journal and snapshot store (<c>distsys.persistence.journal = sqlite-direct</c>), spoken to
/// through Akka.Persistence's journal and snapshot protocols, and through persistent actors over a reopened file.
/// </summary>
public sealed class SqliteDirectJournalSpec : TestKit
{
    private const int InstanceId = 1;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly string _database;

    public SqliteDirectJournalSpec(ITestOutputHelper output) : this(output, NewDatabase())
    {
    }

    private SqliteDirectJournalSpec(ITestOutputHelper output, string database)
        : base(ConfigFor(database), "sqlite-direct-spec", output)
    {
        _database = database;
    }

    internal static string NewDatabase() => Path.Combine(Path.GetTempPath(), $"sqlite-direct-{Guid.NewGuid():N}", "node.db");

    private static Config ConfigFor(string database) => SqliteDirectPersistence.Prepare(database)
        .WithFallback(ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.failing = "{{TypeName(typeof(FailingSerializer))}}"
            akka.actor.serialization-bindings."{{TypeName(typeof(Unserializable))}}" = failing
            # The events and snapshots here are plain records; Akka's JSON serializer stores them.
            akka.actor.serialize-messages = off
            """))
        .WithFallback(DistSysConfig.TestOverlay)
        .WithFallback(DistSysConfig.Reference);

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path.GetDirectoryName(_database)!, recursive: true); } catch (IOException) { }
    }

    private IActorRef Journal => Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null);

    private IActorRef SnapshotStore => Akka.Persistence.Persistence.Instance.Apply(Sys).SnapshotStoreFor(null);

    private static Persistent Event(string persistenceId, long sequenceNr, object? payload = null) =>
        new(payload ?? $"{persistenceId}-{sequenceNr}", sequenceNr, persistenceId, "", false, ActorRefs.NoSender, "writer-1");

    private static AtomicWrite Atomic(params Persistent[] events) => new(events.ToImmutableList<IPersistentRepresentation>());

    /// <summary>Writes through the journal and expects every event acknowledged.</summary>
    private void Write(params AtomicWrite[] writes)
    {
        Journal.Tell(new WriteMessages(writes, TestActor, InstanceId));
        ExpectMsg<WriteMessagesSuccessful>(Wait);
        foreach (var _ in writes.SelectMany(w => (IImmutableList<IPersistentRepresentation>)w.Payload)) ExpectMsg<WriteMessageSuccess>(Wait);
    }

    /// <summary>Replays a range; returns the events' sequence numbers and payloads and the highest sequence number.</summary>
    private (List<(long SequenceNr, object Payload)> Events, long Highest) Replay(string persistenceId, long from = 1, long to = long.MaxValue, long max = long.MaxValue)
    {
        Journal.Tell(new ReplayMessages(from, to, max, persistenceId, TestActor));
        var events = new List<(long, object)>();
        while (true)
        {
            var message = ExpectMsg<object>(Wait);
            switch (message)
            {
                case ReplayedMessage replayed:
                    Assert.Equal(persistenceId, replayed.Persistent.PersistenceId);
                    events.Add((replayed.Persistent.SequenceNr, replayed.Persistent.Payload));
                    break;
                case RecoverySuccess success:
                    return (events, success.HighestSequenceNr);
                default:
                    throw new Xunit.Sdk.XunitException($"unexpected {message}");
            }
        }
    }

    private long Rows(string table, string persistenceId)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _database, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table} WHERE persistence_id = $pid";
        command.Parameters.AddWithValue("$pid", persistenceId);
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public void Events_replay_in_write_order_and_ranges_and_limits_are_honoured()
    {
        Write(Atomic(Event("order", 1)));
        Write(Atomic(Event("order", 2), Event("order", 3), Event("order", 4)), Atomic(Event("order", 5)));
        Write(Atomic(Event("order", 6)));

        var (all, highest) = Replay("order");
        Assert.Equal(Enumerable.Range(1, 6).Select(i => ((long)i, (object)$"order-{i}")), all);
        Assert.Equal(6, highest);

        Assert.Equal(new[] { 3L, 4L }, Replay("order", from: 3, to: 5, max: 2).Events.Select(e => e.SequenceNr));
        Assert.Equal(new[] { 5L, 6L }, Replay("order", from: 5).Events.Select(e => e.SequenceNr));
        var (none, highestOfNone) = Replay("nobody");
        Assert.Empty(none);
        Assert.Equal(0, highestOfNone);
    }

    [Fact]
    public void Deleting_events_keeps_the_highest_sequence_number()
    {
        for (var i = 1; i <= 5; i++) Write(Atomic(Event("del", i)));

        Journal.Tell(new DeleteMessagesTo("del", 3, TestActor));
        Assert.Equal(3, ExpectMsg<DeleteMessagesSuccess>(Wait).ToSequenceNr);
        var (rest, highest) = Replay("del");
        Assert.Equal(new[] { 4L, 5L }, rest.Select(e => e.SequenceNr));
        Assert.Equal(5, highest);
        Assert.Equal(2, Rows(SqliteDirectPersistence.EventsTable, "del"));

        // Everything deleted: nothing replays, yet the highest sequence number is still known (one row kept, marked).
        Journal.Tell(new DeleteMessagesTo("del", long.MaxValue, TestActor));
        ExpectMsg<DeleteMessagesSuccess>(Wait);
        var (nothing, stillHighest) = Replay("del");
        Assert.Empty(nothing);
        Assert.Equal(5, stillHighest);
        Assert.Equal(1, Rows(SqliteDirectPersistence.EventsTable, "del"));

        // The next event follows it and replays alone.
        Write(Atomic(Event("del", 6)));
        Journal.Tell(new DeleteMessagesTo("del", 5, TestActor));
        ExpectMsg<DeleteMessagesSuccess>(Wait);
        var (after, highestAfter) = Replay("del");
        Assert.Equal(new[] { 6L }, after.Select(e => e.SequenceNr));
        Assert.Equal(6, highestAfter);
        Assert.Equal(1, Rows(SqliteDirectPersistence.EventsTable, "del"));
    }

    [Fact]
    public async Task A_new_actor_system_over_the_same_file_recovers_events_and_snapshot()
    {
        var database = NewDatabase();
        try
        {
            var config = ConfigFor(database);
            var first = ActorSystem.Create("first", config);
            try
            {
                var probe = CreateTestProbe(first);
                var counter = first.ActorOf(Props.Create(() => new Counter("counter", probe.Ref)));
                probe.ExpectMsg<Counter.Recovered>(Wait);
                for (var i = 1; i <= 5; i++) counter.Tell(new Counter.Add(i));
                counter.Tell(new Counter.Snapshot());
                probe.ExpectMsg<SaveSnapshotSuccess>(Wait);
                for (var i = 6; i <= 8; i++) counter.Tell(new Counter.Add(i));
                counter.Tell(Counter.Get.Instance);
                Assert.Equal(Enumerable.Range(1, 8).ToList(), probe.ExpectMsg<List<int>>(Wait));
            }
            finally
            {
                await first.Terminate().WaitAsync(Wait);
            }

            var second = ActorSystem.Create("second", config);
            try
            {
                var probe = CreateTestProbe(second);
                second.ActorOf(Props.Create(() => new Counter("counter", probe.Ref)));
                var recovered = probe.ExpectMsg<Counter.Recovered>(Wait);
                Assert.Equal(5, recovered.FromSnapshotAt);
                Assert.Equal(new[] { 6, 7, 8 }, recovered.Replayed);
                Assert.Equal(Enumerable.Range(1, 8).ToList(), recovered.Values);
            }
            finally
            {
                await second.Terminate().WaitAsync(Wait);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(Path.GetDirectoryName(database)!, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void Snapshots_are_selected_deleted_and_replaced_by_their_criteria()
    {
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        foreach (var (seq, minutes) in new[] { (10L, 0), (20L, 10), (30L, 20) })
        {
            SnapshotStore.Tell(new SaveSnapshot(new SnapshotMetadata("snap", seq, t0.AddMinutes(minutes)), $"state-{seq}"), TestActor);
            ExpectMsg<SaveSnapshotSuccess>(Wait);
        }
        SnapshotStore.Tell(new SaveSnapshot(new SnapshotMetadata("other", 40, t0), "other-40"), TestActor);
        ExpectMsg<SaveSnapshotSuccess>(Wait);

        SelectedSnapshot? Load(SnapshotSelectionCriteria criteria)
        {
            SnapshotStore.Tell(new LoadSnapshot("snap", criteria, long.MaxValue), TestActor);
            return ExpectMsg<LoadSnapshotResult>(Wait).Snapshot;
        }

        var latest = Load(SnapshotSelectionCriteria.Latest)!;
        Assert.Equal((30L, "state-30", t0.AddMinutes(20)), (latest.Metadata.SequenceNr, latest.Snapshot, latest.Metadata.Timestamp));
        Assert.Equal(20, Load(new SnapshotSelectionCriteria(25))!.Metadata.SequenceNr);
        Assert.Equal(10, Load(new SnapshotSelectionCriteria(long.MaxValue, t0.AddMinutes(5)))!.Metadata.SequenceNr);
        Assert.Equal(20, Load(new SnapshotSelectionCriteria(25, DateTime.MaxValue, 15, null))!.Metadata.SequenceNr);
        Assert.Equal(30, Load(new SnapshotSelectionCriteria(long.MaxValue, DateTime.MaxValue, 0, t0.AddMinutes(15)))!.Metadata.SequenceNr);
        Assert.Null(Load(new SnapshotSelectionCriteria(long.MaxValue, DateTime.MaxValue, 31, null)));
        Assert.Null(Load(SnapshotSelectionCriteria.None));

        // One by its metadata (without a timestamp: by sequence number alone).
        SnapshotStore.Tell(new DeleteSnapshot(new SnapshotMetadata("snap", 20, DateTime.MinValue)), TestActor);
        ExpectMsg<DeleteSnapshotSuccess>(Wait);
        Assert.Equal(10, Load(new SnapshotSelectionCriteria(25))!.Metadata.SequenceNr);

        // All that match the criteria, here up to 15: the one at 10.
        SnapshotStore.Tell(new DeleteSnapshots("snap", new SnapshotSelectionCriteria(15)), TestActor);
        ExpectMsg<DeleteSnapshotsSuccess>(Wait);
        Assert.Null(Load(new SnapshotSelectionCriteria(25)));
        Assert.Equal(1, Rows(SqliteDirectPersistence.SnapshotsTable, "snap"));

        // Saving the same sequence number again replaces the snapshot.
        SnapshotStore.Tell(new SaveSnapshot(new SnapshotMetadata("snap", 30, t0.AddMinutes(30)), "state-30-again"), TestActor);
        ExpectMsg<SaveSnapshotSuccess>(Wait);
        Assert.Equal("state-30-again", Load(SnapshotSelectionCriteria.Latest)!.Snapshot);
        Assert.Equal(1, Rows(SqliteDirectPersistence.SnapshotsTable, "snap"));
        Assert.Equal(1, Rows(SqliteDirectPersistence.SnapshotsTable, "other"));
    }

    [Fact]
    public void A_non_serializable_event_is_rejected_and_the_others_are_stored()
    {
        Journal.Tell(new WriteMessages(
            [Atomic(Event("rej", 1)), Atomic(Event("rej", 2, new Unserializable()), Event("rej", 3)), Atomic(Event("rej", 4))],
            TestActor, InstanceId));
        ExpectMsg<WriteMessagesSuccessful>(Wait);
        Assert.Equal(1, ExpectMsg<WriteMessageSuccess>(Wait).Persistent.SequenceNr);
        // The whole atomic write is rejected, the event that could be serialized with it too.
        var rejected = new[] { ExpectMsg<WriteMessageRejected>(Wait), ExpectMsg<WriteMessageRejected>(Wait) };
        Assert.Equal(new[] { 2L, 3L }, rejected.Select(r => r.Persistent.SequenceNr));
        Assert.All(rejected, r => Assert.IsType<FailingSerializer.Refused>(r.Cause));
        Assert.Equal(4, ExpectMsg<WriteMessageSuccess>(Wait).Persistent.SequenceNr);

        var (events, highest) = Replay("rej");
        Assert.Equal(new[] { 1L, 4L }, events.Select(e => e.SequenceNr));
        Assert.Equal(4, highest);
    }

    [Fact]
    public void Concurrent_persistence_ids_keep_their_own_order()
    {
        const int ids = 8, perId = 40;
        // Every request is sent before any is written: requests queued behind a transaction share the next one.
        for (var seq = 1; seq <= perId; seq++)
            for (var id = 0; id < ids; id++)
                Journal.Tell(new WriteMessages([Atomic(Event($"c{id}", seq))], TestActor, InstanceId));
        var acknowledged = new Dictionary<string, List<long>>();
        ReceiveN(ids * perId * 2, Wait).ToList().ForEach(m =>
        {
            if (m is not WriteMessageSuccess ok) { Assert.IsType<WriteMessagesSuccessful>(m); return; }
            var pid = ok.Persistent.PersistenceId;
            if (!acknowledged.TryGetValue(pid, out var list)) acknowledged[pid] = list = [];
            list.Add(ok.Persistent.SequenceNr);
        });
        for (var id = 0; id < ids; id++)
        {
            Assert.Equal(Enumerable.Range(1, perId).Select(i => (long)i), acknowledged[$"c{id}"]);
            var (events, highest) = Replay($"c{id}");
            Assert.Equal(Enumerable.Range(1, perId).Select(i => ((long)i, (object)$"c{id}-{i}")), events);
            Assert.Equal(perId, highest);
        }
    }

    [Fact]
    public void A_failed_write_sharing_a_transaction_fails_alone()
    {
        Write(Atomic(Event("dup", 1)));
        // Three requests in one group commit; the middle one repeats a stored sequence number.
        Journal.Tell(new WriteMessages([Atomic(Event("ok-a", 1))], TestActor, InstanceId));
        Journal.Tell(new WriteMessages([Atomic(Event("dup", 1, "again"))], TestActor, InstanceId));
        Journal.Tell(new WriteMessages([Atomic(Event("ok-b", 1))], TestActor, InstanceId));
        var replies = ReceiveN(6, Wait).ToList();
        Assert.Equal(2, replies.OfType<WriteMessagesSuccessful>().Count());
        Assert.Equal(new[] { "ok-a", "ok-b" }, replies.OfType<WriteMessageSuccess>().Select(s => s.Persistent.PersistenceId).Order());
        Assert.Single(replies.OfType<WriteMessagesFailed>());
        Assert.Equal("dup", Assert.Single(replies.OfType<WriteMessageFailure>()).Persistent.PersistenceId);
        Assert.Equal(new[] { (1L, (object)"dup-1") }, Replay("dup").Events);
    }

    [Fact]
    public void The_plugin_connection_is_in_wal_mode_with_full_sync()
    {
        using var connection = SqliteDirectPersistence.Open(_database, SqliteDirectJournal.CreateTable);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
        command.CommandText = "PRAGMA synchronous";
        Assert.Equal(2L, command.ExecuteScalar()); // FULL: the WAL is fsynced at every commit
    }

    [Fact]
    public void The_journal_setting_accepts_sqlite_direct_and_names_its_plugins()
    {
        var host = HostSettings.Create(ConfigurationFactory.ParseString("distsys.persistence.journal = sqlite-direct").WithFallback(DistSysConfig.Reference));
        Assert.Equal("sqlite-direct", host.Journal);
        Assert.True(host.DurableJournal);
        Assert.False(HostSettings.Create(DistSysConfig.TestOverlay.WithFallback(DistSysConfig.Reference)).DurableJournal);

        var config = SqlitePersistence.ForJournal("sqlite-direct", _database);
        Assert.Equal(SqliteDirectPersistence.JournalPluginId, config.GetString("akka.persistence.journal.plugin"));
        Assert.Equal(SqliteDirectPersistence.SnapshotPluginId, config.GetString("akka.persistence.snapshot-store.plugin"));
        Assert.Equal(Path.GetFullPath(_database), config.GetString($"{SqliteDirectPersistence.JournalPluginId}.database"));
        Assert.Equal("akka.persistence.journal.sql", SqlitePersistence.ForJournal("sqlite", _database).GetString("akka.persistence.journal.plugin"));
        Assert.Equal("akka.persistence.journal.inmem", SqlitePersistence.ForJournal("memory", _database).GetString("akka.persistence.journal.plugin"));
        Assert.Throws<ArgumentException>(() => SqlitePersistence.ForJournal("postgres", _database));
        var bad = ConfigurationFactory.ParseString("distsys.persistence.journal = sqlite-directly").WithFallback(DistSysConfig.Reference);
        Assert.Contains("distsys.persistence.journal", Assert.Throws<ConfigurationException>(() => HostSettings.Create(bad)).Message);
    }

    [Fact]
    public void Akka_persistence_sql_is_configured_without_clone_connections_and_with_the_default_sync()
    {
        var config = SqlitePersistence.Prepare(_database);
        Assert.False(config.GetBoolean("akka.persistence.journal.sql.use-clone-connection", true));
        Assert.False(config.GetBoolean("akka.persistence.snapshot-store.sql.use-clone-connection", true));
        // Its connections are opened without pragmas: SQLite's default synchronous, FULL, must stay in force.
        Assert.DoesNotContain("synchronous", config.GetString("akka.persistence.journal.sql.connection-string"), StringComparison.OrdinalIgnoreCase);
        using var connection = new SqliteConnection(config.GetString("akka.persistence.journal.sql.connection-string"));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous";
        Assert.Equal(2L, command.ExecuteScalar());
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
    }

    /// <summary>An event type bound to <see cref="FailingSerializer"/>.</summary>
    public sealed record Unserializable;

    /// <summary>Refuses to serialize anything.</summary>
    public sealed class FailingSerializer(ExtendedActorSystem system) : Serializer(system)
    {
        public sealed class Refused() : Exception("this event cannot be serialized");

        public override int Identifier => 9917;

        public override bool IncludeManifest => false;

        public override byte[] ToBinary(object obj) => throw new Refused();

        public override object FromBinary(byte[] bytes, Type? type) => throw new Refused();
    }

    /// <summary>Persists each number it is given; snapshots its list on demand; reports what recovery restored.</summary>
    public sealed class Counter : ReceivePersistentActor
    {
        public sealed record Add(int Value);

        public sealed record Added(int Value);

        public sealed record State(int[] Values);

        public sealed record Snapshot;

        public sealed record Get
        {
            public static readonly Get Instance = new();
        }

        public sealed record Recovered(long? FromSnapshotAt, List<int> Replayed, List<int> Values);

        private List<int> _values = [];
        private readonly List<int> _replayed = [];
        private long? _snapshotAt;

        public override string PersistenceId { get; }

        public Counter(string persistenceId, IActorRef probe)
        {
            PersistenceId = persistenceId;
            Recover<SnapshotOffer>(offer =>
            {
                _snapshotAt = offer.Metadata.SequenceNr;
                _values = [.. ((State)offer.Snapshot).Values];
            });
            Recover<Added>(a =>
            {
                _replayed.Add(a.Value);
                _values.Add(a.Value);
            });
            Recover<RecoveryCompleted>(_ => probe.Tell(new Recovered(_snapshotAt, [.. _replayed], [.. _values])));
            Command<Add>(a => PersistAsync(new Added(a.Value), e => _values.Add(e.Value)));
            // After the events persisted before it, so that the snapshot's sequence number covers them.
            Command<Snapshot>(_ => DeferAsync(0, _ => SaveSnapshot(new State([.. _values]))));
            Command<SaveSnapshotSuccess>(ok => probe.Tell(ok));
            Command<Get>(_ => DeferAsync(0, _ => probe.Tell(new List<int>(_values))));
        }
    }
}

/// <summary>Raft's durable host on the sqlite-direct journal: snapshots, journal truncation and a restart from the file.</summary>
[Collection(RaftActorCollection.Name)]
public sealed class RaftSqliteDirectSpec : TestKit
{
    private const int SnapshotEntries = 20;
    private readonly string _database;

    public RaftSqliteDirectSpec(ITestOutputHelper output) : this(output, SqliteDirectJournalSpec.NewDatabase())
    {
    }

    private RaftSqliteDirectSpec(ITestOutputHelper output, string database)
        : base(SqliteDirectPersistence.Prepare(database).WithFallback(RaftActorCluster.Config), "raft-sqlite-direct-spec", output)
    {
        _database = database;
    }

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path.GetDirectoryName(_database)!, recursive: true); } catch (IOException) { }
    }

    private long JournalRows(string persistenceId)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _database, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {SqliteDirectPersistence.EventsTable} WHERE persistence_id = $pid";
        command.Parameters.AddWithValue("$pid", persistenceId);
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public void The_journal_stays_bounded_and_a_restart_recovers_from_snapshot_and_tail()
    {
        var settings = RaftSettings.Create(RaftActorCluster.Config) with { SnapshotEntries = SnapshotEntries, CompactionMarginEntries = 0 };
        var id = new NodeId(62);
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var node = Start(this, network, id, [id], settings, "direct-1");
        AwaitLeader(this, new Dictionary<NodeId, IActorRef> { [id] = node });
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
            Assert.InRange(JournalRows($"raft-node-{id.Value}"), 1, 2 * SnapshotEntries + 4);
        }, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        Stop(this, node);

        var restarted = Start(this, network, id, [id], settings, "direct-2");
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

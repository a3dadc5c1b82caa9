using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Snapshot;
using Microsoft.Data.Sqlite;

namespace DistSysActors.Actors.Persistence;

/// <summary>
/// Akka.Persistence snapshot store on one SQLite connection (<see cref="SqliteDirectPersistence"/>), beside
/// <see cref="SqliteDirectJournal"/> in the same file: one row per (persistence id, sequence number) holding the
/// serializer id, its manifest and the bytes, and the snapshot's timestamp as <see cref="DateTime.Ticks"/>. Saving the
/// same (persistence id, sequence number) again replaces the row. Work runs on the store actor's own thread.
/// </summary>
public class SqliteDirectSnapshotStore : SnapshotStore
{
    private const string Table = SqliteDirectPersistence.SnapshotsTable;

    internal const string CreateTable =
        $"CREATE TABLE IF NOT EXISTS {Table} (" +
        "persistence_id TEXT NOT NULL, sequence_nr INTEGER NOT NULL, created INTEGER NOT NULL, " +
        "serializer_id INTEGER NOT NULL, manifest TEXT NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (persistence_id, sequence_nr))";

    private const string Matching =
        "persistence_id = $pid AND sequence_nr BETWEEN $minSeq AND $maxSeq AND created BETWEEN $minTs AND $maxTs";

    private static readonly (string, SqliteType)[] CriteriaParameters =
    [
        ("$pid", SqliteType.Text), ("$minSeq", SqliteType.Integer), ("$maxSeq", SqliteType.Integer),
        ("$minTs", SqliteType.Integer), ("$maxTs", SqliteType.Integer),
    ];

    private readonly string _database;
    private readonly ExtendedActorSystem _system;
    private readonly object _gate = new();
    private SqliteConnection? _connection;
    private SqliteCommand _save = null!, _load = null!, _deleteOne = null!, _deleteMatching = null!;

    public SqliteDirectSnapshotStore(Config config)
    {
        _database = SqliteDirectPersistence.DatabaseOf(config, SqliteDirectPersistence.SnapshotPluginId);
        _system = (ExtendedActorSystem)Context.System;
    }

    protected override void PreStart()
    {
        base.PreStart();
        var connection = SqliteDirectPersistence.Open(_database, CreateTable);
        _connection = connection;
        _save = SqliteDirectPersistence.Prepared(connection,
            $"INSERT OR REPLACE INTO {Table} (persistence_id, sequence_nr, created, serializer_id, manifest, payload) " +
            "VALUES ($pid, $seq, $created, $serializer, $manifest, $payload)",
            ("$pid", SqliteType.Text), ("$seq", SqliteType.Integer), ("$created", SqliteType.Integer),
            ("$serializer", SqliteType.Integer), ("$manifest", SqliteType.Text), ("$payload", SqliteType.Blob));
        // The newest snapshot the criteria select.
        _load = SqliteDirectPersistence.Prepared(connection,
            $"SELECT sequence_nr, created, serializer_id, manifest, payload FROM {Table} WHERE {Matching} ORDER BY sequence_nr DESC LIMIT 1",
            CriteriaParameters);
        // One snapshot by its metadata; a timestamp, if the metadata has one, bounds it like Akka.Persistence.Sql does.
        _deleteOne = SqliteDirectPersistence.Prepared(connection,
            $"DELETE FROM {Table} WHERE persistence_id = $pid AND sequence_nr = $seq AND ($ts IS NULL OR created <= $ts)",
            ("$pid", SqliteType.Text), ("$seq", SqliteType.Integer), ("$ts", SqliteType.Integer));
        _deleteMatching = SqliteDirectPersistence.Prepared(connection, $"DELETE FROM {Table} WHERE {Matching}", CriteriaParameters);
    }

    protected override void PostStop()
    {
        lock (_gate)
        {
            foreach (var command in new[] { _save, _load, _deleteOne, _deleteMatching }) command?.Dispose();
            _connection?.Dispose();
            _connection = null;
        }
        base.PostStop();
    }

    protected override Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken) =>
        Run(() =>
        {
            lock (_gate)
            {
                EnsureOpen();
                _load.Parameters["$pid"].Value = persistenceId;
                SqliteDirectPersistence.BindCriteria(_load, criteria);
                using var reader = _load.ExecuteReader();
                if (!reader.Read()) return (SelectedSnapshot?)null;
                var snapshot = SqliteDirectPersistence.Deserialize(_system, reader.GetInt32(2), reader.GetString(3), reader.GetFieldValue<byte[]>(4));
                return new SelectedSnapshot(new SnapshotMetadata(persistenceId, reader.GetInt64(0), new DateTime(reader.GetInt64(1), DateTimeKind.Utc)), snapshot);
            }
        });

    protected override Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken) => Run(() =>
    {
        var (serializerId, manifest, bytes) = SqliteDirectPersistence.Serialize(_system, snapshot);
        lock (_gate)
        {
            EnsureOpen();
            var p = _save.Parameters;
            p["$pid"].Value = metadata.PersistenceId;
            p["$seq"].Value = metadata.SequenceNr;
            p["$created"].Value = metadata.Timestamp.Ticks;
            p["$serializer"].Value = serializerId;
            p["$manifest"].Value = manifest;
            p["$payload"].Value = bytes;
            return _save.ExecuteNonQuery();
        }
    });

    protected override Task DeleteAsync(SnapshotMetadata metadata, CancellationToken cancellationToken) => Run(() =>
    {
        lock (_gate)
        {
            EnsureOpen();
            var p = _deleteOne.Parameters;
            p["$pid"].Value = metadata.PersistenceId;
            p["$seq"].Value = metadata.SequenceNr;
            p["$ts"].Value = metadata.Timestamp == DateTime.MinValue ? DBNull.Value : metadata.Timestamp.Ticks;
            return _deleteOne.ExecuteNonQuery();
        }
    });

    protected override Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken) => Run(() =>
    {
        lock (_gate)
        {
            EnsureOpen();
            _deleteMatching.Parameters["$pid"].Value = persistenceId;
            SqliteDirectPersistence.BindCriteria(_deleteMatching, criteria);
            return _deleteMatching.ExecuteNonQuery();
        }
    });

    private SqliteConnection EnsureOpen() => _connection ?? throw new InvalidOperationException($"the snapshot store on {_database} is closed");

    private static Task<T> Run<T>(Func<T> work)
    {
        try { return Task.FromResult(work()); }
        catch (Exception e) { return Task.FromException<T>(e); }
    }
}

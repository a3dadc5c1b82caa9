using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Microsoft.Data.Sqlite;

namespace DistSysActors.Actors.Persistence;

/// <summary>
/// Akka.Persistence journal on one SQLite connection (<see cref="SqliteDirectPersistence"/>). Writes run on the
/// journal actor's own thread, so a write costs one transaction and one fsync, with no hop to another thread or
/// stream stage. Group commit: WriteMessages requests that queue up while a transaction is being written (several
/// persistent actors writing at once) are committed together in the next transaction, on one fsync; a request alone
/// is written at once. Each event row holds the serializer id, its manifest and the bytes, like Akka.Persistence.Sql.
/// Deleting events keeps the highest one (marked deleted, never replayed), so the highest sequence number survives.
/// Tags (<see cref="Tagged"/>) are not stored: there is no query side.
/// </summary>
public class SqliteDirectJournal : AsyncWriteJournal
{
    private const string Table = SqliteDirectPersistence.EventsTable;

    internal const string CreateTable =
        $"CREATE TABLE IF NOT EXISTS {Table} (" +
        "persistence_id TEXT NOT NULL, sequence_nr INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, " +
        "serializer_id INTEGER NOT NULL, manifest TEXT NOT NULL, event_manifest TEXT NOT NULL, writer_uuid TEXT NOT NULL, " +
        "timestamp INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (persistence_id, sequence_nr))";

    private readonly string _database;
    private readonly ExtendedActorSystem _system;
    // Guards the connection, its commands and the pending writes; the journal's own thread uses them, but Akka may
    // call the recovery methods from a continuation on another thread.
    private readonly object _gate = new();
    private readonly List<PendingWrite> _pending = [];
    private bool _flushScheduled;
    private IActorRef _self = ActorRefs.Nobody;
    private SqliteConnection? _connection;
    private SqliteCommand _insert = null!, _highest = null!, _replay = null!, _deleteBelowHighest = null!, _markDeleted = null!;

    private sealed class Flush : INoSerializationVerificationNeeded
    {
        public static readonly Flush Instance = new();
    }

    private sealed record Row(string PersistenceId, long SequenceNr, int SerializerId, string Manifest, string EventManifest, string WriterUuid, long Timestamp, byte[] Payload);

    /// <summary>One WriteMessages request: its rows, which of its atomic writes were rejected, and who waits for it.</summary>
    private sealed record PendingWrite(List<Row> Rows, IImmutableList<Exception>? Rejections, TaskCompletionSource<IImmutableList<Exception>?> Done);

    public SqliteDirectJournal(Config config)
    {
        _database = SqliteDirectPersistence.DatabaseOf(config, SqliteDirectPersistence.JournalPluginId);
        _system = (ExtendedActorSystem)Context.System;
    }

    protected override void PreStart()
    {
        base.PreStart();
        _self = Self;
        var connection = SqliteDirectPersistence.Open(_database, CreateTable);
        _connection = connection;
        _insert = SqliteDirectPersistence.Prepared(connection,
            $"INSERT INTO {Table} (persistence_id, sequence_nr, serializer_id, manifest, event_manifest, writer_uuid, timestamp, payload) " +
            "VALUES ($pid, $seq, $serializer, $manifest, $eventManifest, $writer, $timestamp, $payload)",
            ("$pid", SqliteType.Text), ("$seq", SqliteType.Integer), ("$serializer", SqliteType.Integer), ("$manifest", SqliteType.Text),
            ("$eventManifest", SqliteType.Text), ("$writer", SqliteType.Text), ("$timestamp", SqliteType.Integer), ("$payload", SqliteType.Blob));
        _highest = SqliteDirectPersistence.Prepared(connection,
            $"SELECT MAX(sequence_nr) FROM {Table} WHERE persistence_id = $pid", ("$pid", SqliteType.Text));
        _replay = SqliteDirectPersistence.Prepared(connection,
            $"SELECT sequence_nr, serializer_id, manifest, event_manifest, writer_uuid, timestamp, payload FROM {Table} " +
            "WHERE persistence_id = $pid AND sequence_nr BETWEEN $from AND $to AND deleted = 0 ORDER BY sequence_nr LIMIT $max",
            ("$pid", SqliteType.Text), ("$from", SqliteType.Integer), ("$to", SqliteType.Integer), ("$max", SqliteType.Integer));
        // Everything up to the bound but the persistence id's highest row, which keeps its sequence number...
        _deleteBelowHighest = SqliteDirectPersistence.Prepared(connection,
            $"DELETE FROM {Table} WHERE persistence_id = $pid AND sequence_nr <= $to " +
            $"AND sequence_nr < (SELECT MAX(sequence_nr) FROM {Table} WHERE persistence_id = $pid)",
            ("$pid", SqliteType.Text), ("$to", SqliteType.Integer));
        // ...and is marked deleted instead when the bound covers it.
        _markDeleted = SqliteDirectPersistence.Prepared(connection,
            $"UPDATE {Table} SET deleted = 1 WHERE persistence_id = $pid AND sequence_nr <= $to AND deleted = 0",
            ("$pid", SqliteType.Text), ("$to", SqliteType.Integer));
    }

    protected override void PostStop()
    {
        try
        {
            FlushPending();
        }
        finally
        {
            lock (_gate)
            {
                foreach (var command in new[] { _insert, _highest, _replay, _deleteBelowHighest, _markDeleted }) command?.Dispose();
                _connection?.Dispose();
                _connection = null;
            }
            base.PostStop();
        }
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        try { return Enqueue(messages); }
        catch (Exception e) { return Task.FromException<IImmutableList<Exception>>(e); }
    }

    private Task<IImmutableList<Exception>> Enqueue(IEnumerable<AtomicWrite> messages)
    {
        var writes = messages as IReadOnlyList<AtomicWrite> ?? messages.ToList();
        var rows = new List<Row>(writes.Count);
        Exception?[]? rejections = null;
        for (var i = 0; i < writes.Count; i++)
        {
            var before = rows.Count;
            try
            {
                foreach (var representation in (IImmutableList<IPersistentRepresentation>)writes[i].Payload) rows.Add(ToRow(representation));
            }
            catch (Exception e)
            {
                // Not serializable: this atomic write is rejected (the persistent actor is told and goes on), the others are stored.
                rows.RemoveRange(before, rows.Count - before);
                rejections ??= new Exception?[writes.Count];
                rejections[i] = e;
            }
        }
        // Akka's contract: null when nothing was rejected, else one entry per atomic write, null for those stored.
        IImmutableList<Exception>? rejected = rejections is null ? null : ImmutableList.CreateRange(rejections.Select(e => e!));
        if (rows.Count == 0) return Task.FromResult<IImmutableList<Exception>>(rejected!);

        var done = new TaskCompletionSource<IImmutableList<Exception>?>();
        lock (_gate)
        {
            _pending.Add(new PendingWrite(rows, rejected, done));
            if (!_flushScheduled)
            {
                // Written when the journal reaches this message: requests already queued behind this one join the transaction.
                _flushScheduled = true;
                _self.Tell(Flush.Instance);
            }
        }
        return done.Task!;
    }

    protected override bool ReceivePluginInternal(object message)
    {
        if (message is not Flush) return false;
        FlushPending();
        return true;
    }

    private Row ToRow(IPersistentRepresentation representation)
    {
        var payload = representation.Payload is Tagged tagged ? tagged.Payload : representation.Payload;
        var (serializerId, manifest, bytes) = SqliteDirectPersistence.Serialize(_system, payload);
        return new Row(representation.PersistenceId, representation.SequenceNr, serializerId, manifest, representation.Manifest ?? "",
            representation.WriterGuid ?? "", representation.Timestamp == 0 ? DateTime.UtcNow.Ticks : representation.Timestamp, bytes);
    }

    /// <summary>Writes every pending request: together in one transaction, or, if that fails, each in its own.</summary>
    private void FlushPending()
    {
        List<PendingWrite> batch;
        var outcomes = new List<(PendingWrite Write, Exception? Error)>();
        lock (_gate)
        {
            _flushScheduled = false;
            if (_pending.Count == 0) return;
            batch = [.. _pending];
            _pending.Clear();
            try
            {
                WriteRows(batch.SelectMany(w => w.Rows));
                outcomes.AddRange(batch.Select(w => (w, (Exception?)null)));
            }
            catch (Exception) when (batch.Count > 1)
            {
                // One request's failure (a duplicate sequence number, say) must not fail the others.
                foreach (var write in batch)
                {
                    try
                    {
                        WriteRows(write.Rows);
                        outcomes.Add((write, null));
                    }
                    catch (Exception one)
                    {
                        outcomes.Add((write, one));
                    }
                }
            }
            catch (Exception e)
            {
                outcomes.Add((batch[0], e));
            }
        }
        // Completed outside the lock: Akka's continuation runs here and tells the persistent actors.
        foreach (var (write, error) in outcomes)
        {
            if (error is null) write.Done.TrySetResult(write.Rejections);
            else write.Done.TrySetException(error);
        }
    }

    private void WriteRows(IEnumerable<Row> rows)
    {
        using var transaction = EnsureOpen().BeginTransaction();
        _insert.Transaction = transaction;
        var p = _insert.Parameters;
        foreach (var row in rows)
        {
            p["$pid"].Value = row.PersistenceId;
            p["$seq"].Value = row.SequenceNr;
            p["$serializer"].Value = row.SerializerId;
            p["$manifest"].Value = row.Manifest;
            p["$eventManifest"].Value = row.EventManifest;
            p["$writer"].Value = row.WriterUuid;
            p["$timestamp"].Value = row.Timestamp;
            p["$payload"].Value = row.Payload;
            _insert.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken) => Run(() =>
    {
        // A restarted actor may ask before its last writes reached the file: write them first.
        FlushPending();
        lock (_gate)
        {
            EnsureOpen();
            _highest.Transaction = null;
            _highest.Parameters["$pid"].Value = persistenceId;
            return _highest.ExecuteScalar() is long highest ? highest : 0L;
        }
    });

    public override Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback) => Run(() =>
    {
        if (max <= 0 || toSequenceNr < fromSequenceNr) return 0;
        FlushPending();
        lock (_gate)
        {
            EnsureOpen();
            _replay.Transaction = null;
            var p = _replay.Parameters;
            p["$pid"].Value = persistenceId;
            p["$from"].Value = fromSequenceNr;
            p["$to"].Value = toSequenceNr;
            p["$max"].Value = max;
            using var reader = _replay.ExecuteReader();
            var count = 0;
            while (reader.Read())
            {
                var payload = SqliteDirectPersistence.Deserialize(_system, reader.GetInt32(1), reader.GetString(2), reader.GetFieldValue<byte[]>(6));
                recoveryCallback(new Persistent(payload, reader.GetInt64(0), persistenceId, reader.GetString(3), isDeleted: false,
                    ActorRefs.NoSender, reader.GetString(4), reader.GetInt64(5)));
                count++;
            }
            return count;
        }
    });

    protected override Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken) => Run(() =>
    {
        FlushPending();
        lock (_gate)
        {
            using var transaction = EnsureOpen().BeginTransaction();
            foreach (var command in new[] { _deleteBelowHighest, _markDeleted })
            {
                command.Transaction = transaction;
                command.Parameters["$pid"].Value = persistenceId;
                command.Parameters["$to"].Value = toSequenceNr;
                command.ExecuteNonQuery();
            }
            transaction.Commit();
            return 0;
        }
    });

    private SqliteConnection EnsureOpen() => _connection ?? throw new InvalidOperationException($"the journal on {_database} is closed");

    /// <summary>Runs synchronous work on the calling thread and hands its outcome, a failure too, back as a task.</summary>
    private static Task<T> Run<T>(Func<T> work)
    {
        try { return Task.FromResult(work()); }
        catch (Exception e) { return Task.FromException<T>(e); }
    }
}

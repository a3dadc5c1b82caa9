using System.Text;
using DistSysActors.Core.Election;
using DistSysActors.Core.StateMachine;

namespace DistSysActors.Core.KeyValue;

/// <summary>
/// The replicated key-value state machine: applies committed commands in log order, exactly once, and
/// keeps client sessions (Ongaro's consensus dissertation, section 6.3) as part of the replicated state so a retried command
/// is applied once and answered with the stored response.
/// </summary>
/// <remarks>
/// Limits: the session and idempotency bounds below are the cluster's (<see cref="Limits"/>), set by a
/// <see cref="KvConfigure"/> entry in the log and carried in the snapshot, never this replica's own configuration
/// (<see cref="LocalLimits"/>, what its host proposes): replicas configured differently still apply the same log to
/// the same state. Until the log configures them, <see cref="KvLimits.Default"/> applies.
///
/// Sessions: a client registers through the log (<see cref="KvRegister"/>); its session exists from that entry's apply
/// and its client id is that entry's index, so no two registrations share an id, a duplicated registration included.
/// A command of a client without a session (never registered, or evicted) is answered SessionExpired and not applied,
/// whatever its sequence: a delayed duplicate of an evicted client's first command cannot run again. (Commands decoded
/// from logs written before registration, <see cref="KvCommand.LegacyImplicitSession"/>, keep their old rule:
/// sequence 1 opened the session.) Session table bound: at most <see cref="SessionsMax"/> sessions. When a new client
/// registers at a full table, the session whose last command (or registration) has the lowest log index is evicted
/// (ties by client id), a rule every replica evaluates identically.
///
/// Idempotency keys: a command carrying an Idempotency-Key is executed once; its result is stored with the key
/// and the request's fingerprint, and a later command with the same key and fingerprint is answered with the
/// stored result (Replayed) without executing; with another fingerprint it is refused (IdempotencyMismatch).
/// Records expire <see cref="IdempotencyTtlMs"/> after they were made, judged by the leader's clock entries
/// (<see cref="KvClock"/>) in the log, so every replica expires the same keys at the same index. At most
/// <see cref="IdempotencyRecordsMax"/> records are kept; a new one at a full table evicts the oldest (lowest
/// leader time, then lowest index).
/// </remarks>
/// <param name="sessionsMax">This replica's configured sessions-max (<see cref="LocalLimits"/>); the cluster's applies.</param>
/// <param name="idempotencyTtlMs">This replica's configured idempotency TTL; the cluster's applies.</param>
/// <param name="idempotencyRecordsMax">This replica's configured idempotency records-max; the cluster's applies.</param>
public sealed partial class KeyValueStore(
    int sessionsMax = KeyValueStore.DefaultSessionsMax,
    long idempotencyTtlMs = KeyValueStore.DefaultIdempotencyTtlMs,
    int idempotencyRecordsMax = KeyValueStore.DefaultIdempotencyRecordsMax) : IReplicatedStateMachine<KvApplied>
{
    public const int DefaultSessionsMax = 10_000;
    public const long DefaultIdempotencyTtlMs = 24 * 60 * 60 * 1000L;
    public const int DefaultIdempotencyRecordsMax = 100_000;

    /// <summary>This replica's own configured limits: what its host proposes when the cluster has none. Apply never reads them.</summary>
    public KvLimits LocalLimits { get; } = new(sessionsMax, idempotencyTtlMs, idempotencyRecordsMax);

    /// <summary>The cluster's limits in force: from the latest applied <see cref="KvConfigure"/>, <see cref="KvLimits.Default"/> before any.</summary>
    public KvLimits Limits { get; private set; } = KvLimits.Default;

    /// <summary>The version of the applied configuration; 0 while the log has configured nothing.</summary>
    public long ConfigVersion { get; private set; }

    private readonly Dictionary<string, string> _data = new(StringComparer.Ordinal);
    private readonly Dictionary<long, Session> _sessions = [];
    private readonly Dictionary<string, IdempotencyRecord> _idempotency = new(StringComparer.Ordinal);
    private readonly SortedSet<(long MadeAtMs, long Index, string Key)> _idempotencyByAge = new();

    private sealed record Session(long Sequence, KvResult Result, long LastIndex);

    private sealed record IdempotencyRecord(string Fingerprint, KvResult Result, long Index, long MadeAtMs);

    public int SessionsMax => Limits.SessionsMax;
    public long IdempotencyTtlMs => Limits.IdempotencyTtlMs;
    public int IdempotencyRecordsMax => Limits.IdempotencyRecordsMax;

    /// <summary>The latest leader time written into the log (ms since the Unix epoch); 0 before the first clock entry.</summary>
    public long LeaderTimeMs { get; private set; }
    public int IdempotencyRecordCount => _idempotency.Count;
    public long AppliedIndex { get; private set; }
    public int Count => _data.Count;
    public int SessionCount => _sessions.Count;

    public string? Get(string key) => _data.TryGetValue(key, out var v) ? v : null;

    /// <summary>Every key and value in ordinal key order (for comparing replicas).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Items => _data.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();

    /// <summary>Last sequence number applied for a client, or null if it has no session.</summary>
    public long? SessionSequence(long clientId) => _sessions.TryGetValue(clientId, out var s) ? s.Sequence : null;

    /// <summary>
    /// The whole replicated state (data, client sessions, idempotency records, leader time, configured limits, applied index) in a
    /// versioned, deterministic binary form: equal states give equal bytes.
    /// </summary>
    /// <remarks>
    /// Layout (little-endian, strings as BinaryWriter writes them): magic, version, AppliedIndex, LeaderTimeMs,
    /// ConfigVersion and, when it is above 0, the limits (sessions-max int32, TTL int64, records-max int32); the data
    /// in ordinal key order; the sessions in client id order; the idempotency records in ordinal key order; then the
    /// leases and the fenced registers, each in ordinal name order (version 3). The by-age order of the records is not
    /// stored: it is rebuilt from each record's (MadeAtMs, Index, Key).
    /// </remarks>
    public byte[] Snapshot()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, StrictUtf8, leaveOpen: true))
        {
            w.Write(SnapshotMagic);
            w.Write(SnapshotVersion);
            w.Write(AppliedIndex);
            w.Write(LeaderTimeMs);
            w.Write(ConfigVersion);
            if (ConfigVersion > 0)
            {
                w.Write(Limits.SessionsMax);
                w.Write(Limits.IdempotencyTtlMs);
                w.Write(Limits.IdempotencyRecordsMax);
            }
            w.Write(_data.Count);
            foreach (var key in _data.Keys.Order(StringComparer.Ordinal))
            {
                w.Write(key);
                w.Write(_data[key]);
            }
            w.Write(_sessions.Count);
            foreach (var client in _sessions.Keys.Order())
            {
                var s = _sessions[client];
                w.Write(client);
                w.Write(s.Sequence);
                w.Write(s.LastIndex);
                WriteResult(w, s.Result);
            }
            w.Write(_idempotency.Count);
            foreach (var key in _idempotency.Keys.Order(StringComparer.Ordinal))
            {
                var r = _idempotency[key];
                w.Write(key);
                w.Write(r.Fingerprint);
                w.Write(r.Index);
                w.Write(r.MadeAtMs);
                WriteResult(w, r.Result);
            }
            WriteElection(w);
        }
        return stream.ToArray();
    }

    /// <summary>
    /// Replaces this store's state with one made by <see cref="Snapshot"/> (AppliedIndex and the cluster's limits become
    /// the snapshot's). FormatException, leaving the store unchanged, if the bytes are not a snapshot. This replica's own
    /// limits play no part: a snapshot holds whatever the cluster's limits allowed.
    /// </summary>
    /// <remarks>
    /// A version 1 snapshot (written before the limits were replicated) has no configuration: the defaults apply until
    /// the log configures the store. It may hold more sessions or records than the defaults allow; the next new one
    /// (or the configuration) trims the table to the limit.
    /// </remarks>
    public void Restore(byte[] snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var data = new List<(string Key, string Value)>();
        var sessions = new List<(long Client, Session Session)>();
        var records = new List<(string Key, IdempotencyRecord Record)>();
        long appliedIndex, leaderTimeMs, configVersion = 0;
        (LeaseTable Leases, FencedRegisters Fenced) election;
        var limits = KvLimits.Default;
        try
        {
            using var r = new BinaryReader(new MemoryStream(snapshot, writable: false), StrictUtf8);
            if (r.ReadUInt32() != SnapshotMagic) throw new FormatException("not a key-value store snapshot (magic)");
            var version = r.ReadByte();
            if (version is not (SnapshotVersion1 or SnapshotVersion2 or SnapshotVersion)) throw new FormatException($"unknown key-value snapshot version {version}");
            appliedIndex = r.ReadInt64();
            leaderTimeMs = r.ReadInt64();
            if (appliedIndex < 0 || leaderTimeMs < 0) throw new FormatException("negative applied index or leader time");
            if (version >= SnapshotVersion2)
            {
                configVersion = r.ReadInt64();
                if (configVersion < 0) throw new FormatException("negative configuration version");
                if (configVersion > 0)
                {
                    var (sessionsMax, ttlMs, recordsMax) = (r.ReadInt32(), r.ReadInt64(), r.ReadInt32());
                    if (!KvLimits.IsValid(sessionsMax, ttlMs, recordsMax)) throw new FormatException("invalid limits in the key-value snapshot");
                    limits = new KvLimits(sessionsMax, ttlMs, recordsMax);
                }
            }

            var count = ReadCount(r, int.MaxValue, "keys");
            for (var i = 0; i < count; i++)
            {
                var key = r.ReadString();
                var value = r.ReadString();
                // Ascending order makes the encoding canonical (restore then snapshot gives the same bytes) and rules out duplicates.
                if (i > 0 && string.CompareOrdinal(data[^1].Key, key) >= 0) throw new FormatException("keys are not in ascending ordinal order");
                data.Add((key, value));
            }
            count = ReadCount(r, KvLimits.SessionsMaxLimit, "sessions");
            for (var i = 0; i < count; i++)
            {
                var client = r.ReadInt64();
                var sequence = r.ReadInt64();
                var lastIndex = r.ReadInt64();
                var result = ReadResult(r);
                if (i > 0 && sessions[^1].Client >= client) throw new FormatException("sessions are not in ascending client id order");
                if (sequence < 0 || lastIndex < 0 || lastIndex > appliedIndex) throw new FormatException($"invalid session of client {client}");
                sessions.Add((client, new Session(sequence, result, lastIndex)));
            }
            count = ReadCount(r, KvLimits.IdempotencyRecordsMaxLimit, "idempotency records");
            for (var i = 0; i < count; i++)
            {
                var key = r.ReadString();
                var fingerprint = r.ReadString();
                var index = r.ReadInt64();
                var madeAtMs = r.ReadInt64();
                var result = ReadResult(r);
                if (i > 0 && string.CompareOrdinal(records[^1].Key, key) >= 0) throw new FormatException("idempotency keys are not in ascending ordinal order");
                if (index < 1 || index > appliedIndex || madeAtMs < 0 || madeAtMs > leaderTimeMs) throw new FormatException($"invalid idempotency record {key}");
                records.Add((key, new IdempotencyRecord(fingerprint, result, index, madeAtMs)));
            }
            election = version >= SnapshotVersion ? ReadElection(r) : (new LeaseTable(), new FencedRegisters());
            if (r.BaseStream.Position != snapshot.Length) throw new FormatException("trailing bytes after the key-value snapshot");
        }
        catch (EndOfStreamException e) { throw new FormatException("truncated key-value store snapshot", e); }
        catch (DecoderFallbackException e) { throw new FormatException("invalid UTF-8 in key-value store snapshot", e); }

        _data.Clear();
        foreach (var (key, value) in data) _data[key] = value;
        _sessions.Clear();
        foreach (var (client, session) in sessions) _sessions[client] = session;
        _idempotency.Clear();
        _idempotencyByAge.Clear();
        foreach (var (key, record) in records)
        {
            _idempotency[key] = record;
            _idempotencyByAge.Add((record.MadeAtMs, record.Index, key));
        }
        AppliedIndex = appliedIndex;
        LeaderTimeMs = leaderTimeMs;
        ConfigVersion = configVersion;
        Limits = limits;
        (_leases, _fenced) = election;
    }

    private const uint SnapshotMagic = 0x5356_4B44; // "DKVS" read little-endian
    // Version 1 (no configuration) is still read, so snapshots taken before the limits were replicated restore.
    // Version 2 (no leases or fenced registers) is still read; version 3 appends them.
    private const byte SnapshotVersion1 = 1, SnapshotVersion2 = 2, SnapshotVersion = 3;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static void WriteResult(BinaryWriter w, KvResult result)
    {
        w.Write((byte)result.Status);
        w.Write(result.Value is not null);
        if (result.Value is not null) w.Write(result.Value);
    }

    private static KvResult ReadResult(BinaryReader r)
    {
        var status = r.ReadByte();
        if (!Enum.IsDefined((KvStatus)status)) throw new FormatException($"unknown result status {status}");
        var value = r.ReadByte() switch
        {
            0 => null,
            1 => r.ReadString(),
            var flag => throw new FormatException($"invalid value flag {flag}"),
        };
        return (KvStatus)status == KvStatus.Ok && value is null ? KvResult.Ok : new KvResult((KvStatus)status, value);
    }

    private static int ReadCount(BinaryReader r, int countMax, string what)
    {
        var count = r.ReadInt32();
        if (count < 0 || count > countMax) throw new FormatException($"snapshot holds {count} {what}; at most {countMax} allowed");
        return count;
    }

    /// <summary>Applies the next committed command (null: an entry with no command, e.g. a no-op); null when nothing is to be answered.</summary>
    public KvApplied? Apply(long index, byte[]? command)
    {
        if (index != AppliedIndex + 1)
            throw new InvalidOperationException($"entries must be applied in order: expected {AppliedIndex + 1}, got {index}");
        AppliedIndex = index;
        if (command is null) return null;
        return ApplyCommand(index, KvCodec.Decode(command));
    }

    private KvApplied? ApplyCommand(long index, KvCommand? command)
    {
        if (command is null) return new KvApplied(index, 0, 0, new KvResult(KvStatus.Invalid), false);
        if (command is KvClock clock)
        {
            LeaderTimeMs = Math.Max(LeaderTimeMs, clock.LeaderTimeMs);
            ExpireIdempotencyRecords();
            _leases.Sweep(LeaderTimeMs);
            return null;
        }
        if (command is KvConfigure configure)
        {
            Configure(configure);
            return null;
        }
        if (command is KvRegister register)
        {
            while (_sessions.Count >= SessionsMax) EvictOldestSession();
            _sessions[index] = new Session(0, KvResult.Ok, index);
            return new KvApplied(index, register.Nonce, 0, KvResult.Ok, false) { RegisteredClientId = index };
        }

        if (command.Sequence < 1 && !command.LegacyImplicitSession)
            return new KvApplied(index, command.ClientId, command.Sequence, new KvResult(KvStatus.Invalid), false);
        if (_sessions.TryGetValue(command.ClientId, out var session))
        {
            if (command.Sequence == session.Sequence)
                return new KvApplied(index, command.ClientId, command.Sequence, session.Result, true, OriginalIndex: session.LastIndex);
            if (command.Sequence < session.Sequence)
                return new KvApplied(index, command.ClientId, command.Sequence, new KvResult(KvStatus.StaleSequence), true);
        }
        else if (command.LegacyImplicitSession && command.Sequence == 1)
        {
            // Written before clients registered: sequence 1 opened the session then, and replays the same way.
            while (_sessions.Count >= SessionsMax) EvictOldestSession();
        }
        else
        {
            // Never registered, or evicted: a late duplicate of any of its commands (the first included) is not executed.
            return new KvApplied(index, command.ClientId, command.Sequence, new KvResult(KvStatus.SessionExpired), false);
        }

        if (command.Idempotency is { } idem && _idempotency.TryGetValue(idem.Key, out var record))
        {
            // Answered, not executed: the session records the answer so a retry of this sequence gets it too.
            var answer = record.Fingerprint == idem.Fingerprint ? record.Result : new KvResult(KvStatus.IdempotencyMismatch);
            _sessions[command.ClientId] = new Session(command.Sequence, answer, record.Fingerprint == idem.Fingerprint ? record.Index : index);
            return record.Fingerprint == idem.Fingerprint
                ? new KvApplied(index, command.ClientId, command.Sequence, answer, true, Replayed: true, OriginalIndex: record.Index)
                : new KvApplied(index, command.ClientId, command.Sequence, answer, false);
        }

        var result = command is KvElectionCommand election ? ExecuteElection(election, index) : Execute(command);
        _sessions[command.ClientId] = new Session(command.Sequence, result, index);
        if (command.Idempotency is { } key) Remember(key, result, index);
        return new KvApplied(index, command.ClientId, command.Sequence, result, false);
    }

    /// <summary>
    /// Takes the cluster's limits from the log when the entry is the next configuration version (else it changes nothing),
    /// and brings the tables within them at once: the sessions and records that a full table would evict go first.
    /// </summary>
    private void Configure(KvConfigure configure)
    {
        if (configure.Version != ConfigVersion + 1) return;
        ConfigVersion = configure.Version;
        Limits = configure.Limits;
        while (_sessions.Count > SessionsMax) EvictOldestSession();
        while (_idempotency.Count > IdempotencyRecordsMax) EvictOldestRecord();
        ExpireIdempotencyRecords();
    }

    private void EvictOldestRecord()
    {
        var oldest = _idempotencyByAge.Min;
        _idempotencyByAge.Remove(oldest);
        _idempotency.Remove(oldest.Key);
    }

    private void Remember(KvIdempotency key, KvResult result, long index)
    {
        while (_idempotency.Count >= IdempotencyRecordsMax) EvictOldestRecord();
        _idempotency[key.Key] = new IdempotencyRecord(key.Fingerprint, result, index, LeaderTimeMs);
        _idempotencyByAge.Add((LeaderTimeMs, index, key.Key));
    }

    private void ExpireIdempotencyRecords()
    {
        while (_idempotencyByAge.Count > 0 && _idempotencyByAge.Min.MadeAtMs + IdempotencyTtlMs < LeaderTimeMs)
        {
            var expired = _idempotencyByAge.Min;
            _idempotencyByAge.Remove(expired);
            _idempotency.Remove(expired.Key);
        }
    }

    private KvResult Execute(KvCommand command)
    {
        switch (command)
        {
            case KvPut p:
                _data[p.Key] = p.Value;
                return KvResult.Ok;
            case KvDelete d:
                return _data.Remove(d.Key) ? KvResult.Ok : new KvResult(KvStatus.NotFound);
            case KvCas c:
                var current = Get(c.Key);
                if (!string.Equals(current, c.Expected, StringComparison.Ordinal)) return new KvResult(KvStatus.CasMismatch, current);
                _data[c.Key] = c.Value;
                return KvResult.Ok;
            default:
                return new KvResult(KvStatus.Invalid);
        }
    }

    private void EvictOldestSession()
    {
        long victim = 0, victimIndex = long.MaxValue;
        foreach (var (client, s) in _sessions)
            if (s.LastIndex < victimIndex || (s.LastIndex == victimIndex && client < victim))
            {
                victim = client;
                victimIndex = s.LastIndex;
            }
        _sessions.Remove(victim);
    }
}

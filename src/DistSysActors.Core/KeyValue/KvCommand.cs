using System.Text;

namespace DistSysActors.Core.KeyValue;

/// <summary>
/// A key-value command. Every command carries its client's session: <see cref="ClientId"/> and a
/// <see cref="Sequence"/> number that starts at 1 and grows with each new request (Ongaro's consensus dissertation, section 6.3).
/// A client has one request outstanding at a time and retries it with the same sequence number. The client id is the
/// log index of the client's <see cref="KvRegister"/> entry: a client registers before its first command.
/// </summary>
public abstract record KvCommand(long ClientId, long Sequence, string Key)
{
    /// <summary>The client's Idempotency-Key and a fingerprint of its request; null for commands without one.</summary>
    public KvIdempotency? Idempotency { get; init; }

    /// <summary>
    /// A command decoded from a log written before clients registered (format 1 or 2): then sequence 1 of an unknown
    /// client opened its session, and for such a command it still does, so old logs replay to the state they had.
    /// Nothing writes new commands this way (the encoder keeps the old format for them).
    /// </summary>
    public bool LegacyImplicitSession { get; init; }
}

/// <summary>
/// Registers a client (dissertation 6.3): applying it creates a session whose client id is this entry's log index, so
/// a delayed duplicate of the entry registers another, unused, client rather than bringing back an evicted one.
/// <see cref="Nonce"/> is the proposer's random number to recognise the answer by (it stands where a command's
/// client id does, with sequence 0); the new id is <see cref="KvApplied.RegisteredClientId"/>.
/// </summary>
public sealed record KvRegister(long Nonce) : KvCommand(Nonce, 0, "");

/// <summary>An Idempotency-Key and the fingerprint (e.g. a hash of method, path and body) of the request that carried it.</summary>
public sealed record KvIdempotency(string Key, string Fingerprint);

/// <summary>
/// The leader's wall-clock time, written into the log by the leader so every replica judges idempotency-key
/// expiry by the same replicated clock (not by its own). Carries no session.
/// </summary>
public sealed record KvClock(long LeaderTimeMs) : KvCommand(0, 0, "");

/// <summary>
/// The limits that shape the replicated state: at most <see cref="SessionsMax"/> client sessions, Idempotency-Key
/// records kept <see cref="IdempotencyTtlMs"/> of leader time, at most <see cref="IdempotencyRecordsMax"/> of them.
/// Replicas that applied different limits would hold different states, so they come from the log (<see cref="KvConfigure"/>).
/// </summary>
public sealed record KvLimits
{
    public const int SessionsMaxLimit = 10_000_000;
    public const long IdempotencyTtlMsLimit = long.MaxValue / 4;
    public const int IdempotencyRecordsMaxLimit = 10_000_000;

    /// <summary>What a store applies until its log configures it (the reference configuration's values).</summary>
    public static readonly KvLimits Default = new(10_000, 24 * 60 * 60 * 1000L, 100_000);

    public KvLimits(int sessionsMax, long idempotencyTtlMs, int idempotencyRecordsMax)
    {
        SessionsMax = sessionsMax is > 0 and <= SessionsMaxLimit ? sessionsMax : throw new ArgumentOutOfRangeException(nameof(sessionsMax));
        IdempotencyTtlMs = idempotencyTtlMs is > 0 and <= IdempotencyTtlMsLimit ? idempotencyTtlMs : throw new ArgumentOutOfRangeException(nameof(idempotencyTtlMs));
        IdempotencyRecordsMax = idempotencyRecordsMax is > 0 and <= IdempotencyRecordsMaxLimit ? idempotencyRecordsMax : throw new ArgumentOutOfRangeException(nameof(idempotencyRecordsMax));
    }

    public int SessionsMax { get; }
    public long IdempotencyTtlMs { get; }
    public int IdempotencyRecordsMax { get; }

    public static bool IsValid(int sessionsMax, long idempotencyTtlMs, int idempotencyRecordsMax) =>
        sessionsMax is > 0 and <= SessionsMaxLimit && idempotencyTtlMs is > 0 and <= IdempotencyTtlMsLimit
        && idempotencyRecordsMax is > 0 and <= IdempotencyRecordsMaxLimit;

    public override string ToString() =>
        $"sessions-max {SessionsMax}, idempotency ttl-ms {IdempotencyTtlMs}, idempotency records-max {IdempotencyRecordsMax}";
}

/// <summary>
/// Sets the cluster's <see cref="KvLimits"/>, proposed by a leader whose replicated state has none yet. Applied only when
/// <see cref="Version"/> is the store's configuration version + 1, so of several proposed for the same version (two
/// leaders in turn, a duplicate) the first in the log wins and the others change nothing. Carries no session.
/// </summary>
public sealed record KvConfigure(long Version, KvLimits Limits) : KvCommand(0, 0, "");

public sealed record KvPut(long ClientId, long Sequence, string Key, string Value) : KvCommand(ClientId, Sequence, Key);

public sealed record KvDelete(long ClientId, long Sequence, string Key) : KvCommand(ClientId, Sequence, Key);

/// <summary>Compare-and-set: writes Value if the current value equals Expected (null = the key must be absent).</summary>
public sealed record KvCas(long ClientId, long Sequence, string Key, string? Expected, string Value) : KvCommand(ClientId, Sequence, Key);

public enum KvStatus
{
    Ok,
    /// <summary>Delete of an absent key.</summary>
    NotFound,
    /// <summary>Compare-and-set whose expected value did not match; the result carries the current value.</summary>
    CasMismatch,
    /// <summary>The client's session is unknown (evicted): the command was not applied; the client must start a new session.</summary>
    SessionExpired,
    /// <summary>A sequence number below the client's last one: its answer was already delivered, nothing is applied.</summary>
    StaleSequence,
    /// <summary>The entry could not be decoded; nothing is applied.</summary>
    Invalid,
    /// <summary>The Idempotency-Key was first used with a different request; nothing is applied.</summary>
    IdempotencyMismatch,
    /// <summary>A lease command refused: another candidate holds the lease (the result's value is it, <see cref="LeaseAnswer"/>), or the caller does not.</summary>
    LeaseRefused,
    /// <summary>A fenced write refused: its token is below the highest seen for the key (the result's value is that token).</summary>
    Fenced,
}

/// <summary>Outcome of a command; Value is the current value after a CasMismatch.</summary>
public sealed record KvResult(KvStatus Status, string? Value = null)
{
    public static readonly KvResult Ok = new(KvStatus.Ok);
}

/// <summary>
/// What applying one committed command produced, for the host to answer the waiting client by (ClientId, Sequence).
/// <see cref="Duplicate"/>: the result is the stored one of an earlier entry (a session retry or an Idempotency-Key
/// replay), whose index is <see cref="EffectIndex"/>; <see cref="Replayed"/>: it came from the idempotency table.
/// </summary>
public sealed record KvApplied(long Index, long ClientId, long Sequence, KvResult Result, bool Duplicate, bool Replayed = false, long? OriginalIndex = null)
{
    /// <summary>For a <see cref="KvRegister"/> (ClientId its nonce, Sequence 0): the id of the client it registered, its index.</summary>
    public long? RegisteredClientId { get; init; }

    /// <summary>The index at which the answered effect took place.</summary>
    public long EffectIndex => OriginalIndex ?? Index;
}

/// <summary>Compact, versioned binary encoding of commands as log entry data; the same bytes decode identically on every replica.</summary>
public static class KvCodec
{
    public const int KeyBytesMax = 1_024;
    public const int ValueBytesMax = 64 * 1_024;
    public const int IdempotencyKeyBytesMax = 255;
    public const int FingerprintBytesMax = 128;
    // Versions 1 (no idempotency fields) and 2 (no registration) are still decoded, so logs written before replay
    // unchanged: their client commands carry LegacyImplicitSession. Version 3 adds configuration and registration.
    private const byte FormatVersion1 = 1, FormatVersion2 = 2, FormatVersion = 3;
    private const byte PutTag = 1, DeleteTag = 2, CasTag = 3, ClockTag = 4, ConfigureTag = 5, RegisterTag = 6;

    public static byte[] Encode(KvCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        Check(command.Key, KeyBytesMax, "key");
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(command.LegacyImplicitSession && command is KvPut or KvDelete or KvCas ? FormatVersion2 : FormatVersion);
            if (command is KvClock clock)
            {
                w.Write(ClockTag);
                w.Write(clock.LeaderTimeMs);
                return stream.ToArray();
            }
            if (command is KvConfigure configure)
            {
                w.Write(ConfigureTag);
                w.Write(configure.Version);
                w.Write(configure.Limits.SessionsMax);
                w.Write(configure.Limits.IdempotencyTtlMs);
                w.Write(configure.Limits.IdempotencyRecordsMax);
                return stream.ToArray();
            }
            if (command is KvRegister register)
            {
                w.Write(RegisterTag);
                w.Write(register.Nonce);
                return stream.ToArray();
            }
            w.Write(command.Idempotency is not null);
            if (command.Idempotency is { } idem)
            {
                Check(idem.Key, IdempotencyKeyBytesMax, "idempotency key");
                Check(idem.Fingerprint, FingerprintBytesMax, "fingerprint");
                w.Write(idem.Key);
                w.Write(idem.Fingerprint);
            }
            switch (command)
            {
                case KvPut p:
                    Check(p.Value, ValueBytesMax, "value");
                    w.Write(PutTag); Header(w, p); w.Write(p.Value);
                    break;
                case KvDelete d:
                    w.Write(DeleteTag); Header(w, d);
                    break;
                case KvCas c:
                    Check(c.Value, ValueBytesMax, "value");
                    if (c.Expected is not null) Check(c.Expected, ValueBytesMax, "expected");
                    w.Write(CasTag); Header(w, c);
                    w.Write(c.Expected is not null);
                    if (c.Expected is not null) w.Write(c.Expected);
                    w.Write(c.Value);
                    break;
                case KvElectionCommand e:
                    KvElectionCodec.Encode(w, e);
                    break;
                default:
                    throw new ArgumentException($"unknown command {command.GetType().Name}", nameof(command));
            }
        }
        return stream.ToArray();
    }

    /// <summary>Null when the bytes are not a command of this format.</summary>
    public static KvCommand? Decode(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        try
        {
            using var r = new BinaryReader(new MemoryStream(data, writable: false), Encoding.UTF8);
            var version = r.ReadByte();
            if (version is not (FormatVersion1 or FormatVersion2 or FormatVersion)) return null;
            KvIdempotency? idempotency = null;
            if (version != FormatVersion1)
            {
                // The byte after the version is the clock or configuration tag, or the "has an Idempotency-Key" flag (0 or 1).
                switch (r.ReadByte())
                {
                    case ClockTag:
                        var clock = new KvClock(r.ReadInt64());
                        return r.BaseStream.Position == data.Length ? clock : null;
                    case ConfigureTag when version == FormatVersion:
                        var (configVersion, sessionsMax, ttlMs, recordsMax) = (r.ReadInt64(), r.ReadInt32(), r.ReadInt64(), r.ReadInt32());
                        return r.BaseStream.Position == data.Length && configVersion > 0 && KvLimits.IsValid(sessionsMax, ttlMs, recordsMax)
                            ? new KvConfigure(configVersion, new KvLimits(sessionsMax, ttlMs, recordsMax))
                            : null;
                    case RegisterTag when version == FormatVersion:
                        var register = new KvRegister(r.ReadInt64());
                        return r.BaseStream.Position == data.Length ? register : null;
                    case 1:
                        idempotency = new KvIdempotency(r.ReadString(), r.ReadString());
                        break;
                    case 0:
                        break;
                    default:
                        return null;
                }
            }
            var tag = r.ReadByte();
            var client = r.ReadInt64();
            var seq = r.ReadInt64();
            var key = r.ReadString();
            KvCommand? command = tag switch
            {
                PutTag => new KvPut(client, seq, key, r.ReadString()),
                DeleteTag => new KvDelete(client, seq, key),
                CasTag => r.ReadBoolean() ? new KvCas(client, seq, key, r.ReadString(), r.ReadString()) : new KvCas(client, seq, key, null, r.ReadString()),
                _ => KvElectionCodec.Decode(tag, client, seq, key, r),
            };
            return r.BaseStream.Position == data.Length && command is not null
                ? command with { Idempotency = idempotency, LegacyImplicitSession = version != FormatVersion }
                : null;
        }
        catch (EndOfStreamException) { return null; }
        catch (FormatException) { return null; }
        catch (DecoderFallbackException) { return null; }
    }

    internal static void Header(BinaryWriter w, KvCommand c)
    {
        w.Write(c.ClientId);
        w.Write(c.Sequence);
        w.Write(c.Key);
    }

    internal static void Check(string s, int bytesMax, string what)
    {
        ArgumentNullException.ThrowIfNull(s, what);
        if (Encoding.UTF8.GetByteCount(s) > bytesMax) throw new ArgumentException($"{what} exceeds {bytesMax} bytes");
    }
}

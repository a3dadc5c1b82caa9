using DistSysActors.Core.KeyValue;

namespace DistSysActors.Actors.KeyValue;

/// <summary>
/// What clients (the HTTP API, embedders, tests) ask the replicated key-value service (<see cref="KvService"/>) and what
/// it answers, whichever consensus replica hosts it. These messages stay on the node that received them: a write goes to
/// the leader as a log command (<see cref="KvCodec"/>), never as one of these.
/// </summary>
public static class KvProtocol
{
    public abstract record KvRequest(string Key);

    /// <summary>Writes; answered with <see cref="WriteResult"/> once committed and applied, or <see cref="Unavailable"/>.</summary>
    public abstract record KvWrite(string Key) : KvRequest(Key)
    {
        /// <summary>
        /// The client's Idempotency-Key and request fingerprint: the write is executed once per key; a retry with the
        /// same fingerprint gets the stored answer (Replayed), one with another fingerprint <see cref="IdempotencyConflict"/>.
        /// </summary>
        public KvIdempotency? Idempotency { get; init; }
    }

    public sealed record Put(string Key, string Value) : KvWrite(Key);

    public sealed record Delete(string Key) : KvWrite(Key);

    /// <summary>Compare-and-set: Expected null means the key must be absent.</summary>
    public sealed record Cas(string Key, string? Expected, string Value) : KvWrite(Key);

    /// <summary>
    /// How fresh a read must be. Linearizable and Lease confirm with the leader; the others are served from this replica's
    /// own applied state: Stale at once, whatever it holds; ReadYourWrites and Monotonic once it has applied
    /// <see cref="Get.MinIndex"/> (the index a write answered, or the previous read's applied index), waiting up to
    /// distsys.kv.session-wait-ms; Bounded only while its lag is within <see cref="Get.MaxLagMs"/>.
    /// </summary>
    public enum Consistency { Linearizable, Lease, Stale, ReadYourWrites, Monotonic, Bounded }

    /// <summary>
    /// A read; answered with <see cref="ReadResult"/>, <see cref="Behind"/> (the session modes and Bounded) or
    /// <see cref="Unavailable"/>. MinIndex is used by ReadYourWrites and Monotonic, MaxLagMs by Bounded.
    /// </summary>
    public sealed record Get(string Key, Consistency Consistency, long MinIndex = 0, long MaxLagMs = 0) : KvRequest(Key);

    /// <summary>
    /// This replica is too far behind for the read's guarantee: it had not applied the read's min-index within the
    /// session wait, or its lag (LagMs, null when unknown) exceeds the bound. Nothing older than asked for was served.
    /// </summary>
    public sealed record Behind(long AppliedIndex, long? LagMs, string Reason);

    /// <summary>
    /// Status Ok, NotFound (delete of an absent key) or CasMismatch (Current holds the current value).
    /// Replayed: the answer of an earlier execution of the same Idempotency-Key (nothing was executed now).
    /// </summary>
    public sealed record WriteResult(KvStatus Status, long Index, string? Current, bool Replayed = false);

    /// <summary>The Idempotency-Key was first used with a different request (or one is in flight with a different request): nothing done.</summary>
    public sealed record IdempotencyConflict(string Reason);

    public sealed record ReadResult(string? Value, long AppliedIndex)
    {
        public bool Found => Value is not null;
    }

    /// <summary>
    /// The request could not be served. <see cref="Unknown"/>: it may still take effect (it was handed to the log);
    /// otherwise it certainly did not (no leader known, overloaded, invalid).
    /// </summary>
    public sealed record Unavailable(string Reason, bool Unknown);

    /// <summary>Bad input (key too long, ...): nothing was done. TooLarge: the value is over the size limit.</summary>
    public sealed record Rejected(string Reason, bool TooLarge);
}

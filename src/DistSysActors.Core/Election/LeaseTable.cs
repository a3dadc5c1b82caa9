namespace DistSysActors.Core.Election;

/// <summary>A held lease: who holds it, its fencing token (the log index of the winning write), when it ends in leader time, and its TTL.</summary>
public sealed record Lease(string Holder, long Token, long ExpiresAtMs, long TtlMs)
{
    public long RemainingMs(long nowMs) => Math.Max(0, ExpiresAtMs - nowMs);
}

/// <summary>
/// What a lease command did: Granted (the candidate holds it: Lease is its lease) or refused (Lease is the other holder's,
/// or null when none). Full: refused because the table holds <see cref="LeaseTable.LeasesMax"/> live leases.
/// </summary>
public sealed record LeaseOutcome(bool Granted, Lease? Lease, bool Full = false);

/// <summary>
/// Named leases of a replicated state machine, as etcd's election API and Kubernetes' Lease offer them: campaign, renew,
/// resign, observe. Deterministic: time is the replicated leader clock (<paramref name="nowMs"/> given by the state
/// machine, never a replica's own clock) and the fencing token of a won campaign is the log index of that entry, so
/// tokens only grow. A lease whose TTL has run out by the leader clock is free: the next campaign wins it.
/// </summary>
public sealed class LeaseTable
{
    public const int LeasesMax = 10_000;
    public const long TtlMsMax = 24 * 60 * 60 * 1000L;

    private readonly SortedDictionary<string, Lease> _leases = new(StringComparer.Ordinal);

    public int Count => _leases.Count;

    /// <summary>The live lease of <paramref name="name"/> at <paramref name="nowMs"/>, or null.</summary>
    public Lease? Holder(string name, long nowMs) => _leases.TryGetValue(name, out var l) && l.ExpiresAtMs > nowMs ? l : null;

    /// <summary>Every live lease in ordinal name order.</summary>
    public IReadOnlyList<(string Name, Lease Lease)> Live(long nowMs) => [.. _leases.Where(kv => kv.Value.ExpiresAtMs > nowMs).Select(kv => (kv.Key, kv.Value))];

    /// <summary>
    /// Wins the lease when nobody holds it (or its holder's TTL ran out), with token <paramref name="index"/>. The holder
    /// campaigning again keeps its token and its lease is extended (a retried campaign is not a new term).
    /// </summary>
    public LeaseOutcome Campaign(string name, string candidate, long ttlMs, long index, long nowMs)
    {
        if (Holder(name, nowMs) is { } held)
        {
            if (held.Holder != candidate) return new LeaseOutcome(false, held);
            return new LeaseOutcome(true, _leases[name] = held with { ExpiresAtMs = nowMs + ttlMs, TtlMs = ttlMs });
        }
        if (!_leases.ContainsKey(name) && _leases.Count >= LeasesMax) Sweep(nowMs);
        if (!_leases.ContainsKey(name) && _leases.Count >= LeasesMax) return new LeaseOutcome(false, null, Full: true);
        return new LeaseOutcome(true, _leases[name] = new Lease(candidate, index, nowMs + ttlMs, ttlMs));
    }

    /// <summary>Extends the lease by its TTL when <paramref name="candidate"/> holds it with <paramref name="token"/> and it has not run out.</summary>
    public LeaseOutcome Renew(string name, string candidate, long token, long nowMs)
    {
        var held = Holder(name, nowMs);
        if (held is null || held.Holder != candidate || held.Token != token) return new LeaseOutcome(false, held);
        return new LeaseOutcome(true, _leases[name] = held with { ExpiresAtMs = nowMs + held.TtlMs });
    }

    /// <summary>Gives the lease up when <paramref name="candidate"/> holds it with <paramref name="token"/>; the next campaign wins at once.</summary>
    public LeaseOutcome Resign(string name, string candidate, long token, long nowMs)
    {
        var held = Holder(name, nowMs);
        if (held is null || held.Holder != candidate || held.Token != token) return new LeaseOutcome(false, held);
        _leases.Remove(name);
        return new LeaseOutcome(true, held);
    }

    /// <summary>Forgets leases that ran out (they change no answer: an expired lease reads as none).</summary>
    public void Sweep(long nowMs)
    {
        foreach (var name in _leases.Where(kv => kv.Value.ExpiresAtMs <= nowMs).Select(kv => kv.Key).ToList()) _leases.Remove(name);
    }

    public void Write(BinaryWriter w)
    {
        w.Write(_leases.Count);
        foreach (var (name, l) in _leases)
        {
            w.Write(name);
            w.Write(l.Holder);
            w.Write(l.Token);
            w.Write(l.ExpiresAtMs);
            w.Write(l.TtlMs);
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote; FormatException when it is not well formed (the table is left unchanged).</summary>
    public void Read(BinaryReader r)
    {
        var count = r.ReadInt32();
        if (count is < 0 or > LeasesMax) throw new FormatException($"snapshot holds {count} leases; at most {LeasesMax} allowed");
        var read = new List<(string, Lease)>(count);
        for (var i = 0; i < count; i++)
        {
            var name = r.ReadString();
            var lease = new Lease(r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64());
            if (i > 0 && string.CompareOrdinal(read[^1].Item1, name) >= 0) throw new FormatException("lease names are not in ascending ordinal order");
            if (lease.Token < 1 || lease.TtlMs is < 1 or > TtlMsMax) throw new FormatException($"invalid lease {name}");
            read.Add((name, lease));
        }
        _leases.Clear();
        foreach (var (name, lease) in read) _leases[name] = lease;
    }
}

/// <summary>What a fenced write did: Accepted, and the highest token the register has seen after it. Full: refused, the table holds <see cref="FencedRegisters.RegistersMax"/> keys.</summary>
public sealed record FencedOutcome(bool Accepted, long HighestToken, bool Full = false);

/// <summary>
/// Registers guarded by fencing tokens (Kleppmann, "How to do distributed locking", 2016): a write carries the token its
/// writer won a lease with, and is refused when a higher token has been seen for that key, so a holder that was paused
/// past its lease cannot overwrite what the next holder wrote.
/// </summary>
public sealed class FencedRegisters
{
    public const int RegistersMax = 100_000;

    private readonly SortedDictionary<string, (long HighestToken, string Value)> _registers = new(StringComparer.Ordinal);

    public int Count => _registers.Count;

    public (long HighestToken, string Value)? Get(string key) => _registers.TryGetValue(key, out var r) ? r : null;

    /// <summary>Accepts the write when <paramref name="token"/> is at least the highest seen for the key (it becomes the highest).</summary>
    public FencedOutcome Write(string key, long token, string value)
    {
        if (_registers.TryGetValue(key, out var r) && token < r.HighestToken) return new FencedOutcome(false, r.HighestToken);
        if (!_registers.ContainsKey(key) && _registers.Count >= RegistersMax) return new FencedOutcome(false, 0, Full: true);
        _registers[key] = (token, value);
        return new FencedOutcome(true, token);
    }

    public void Write(BinaryWriter w)
    {
        w.Write(_registers.Count);
        foreach (var (key, (token, value)) in _registers)
        {
            w.Write(key);
            w.Write(token);
            w.Write(value);
        }
    }

    public void Read(BinaryReader r)
    {
        var count = r.ReadInt32();
        if (count is < 0 or > RegistersMax) throw new FormatException($"snapshot holds {count} fenced registers; at most {RegistersMax} allowed");
        var read = new List<(string, long, string)>(count);
        for (var i = 0; i < count; i++)
        {
            var item = (r.ReadString(), r.ReadInt64(), r.ReadString());
            if (i > 0 && string.CompareOrdinal(read[^1].Item1, item.Item1) >= 0) throw new FormatException("fenced keys are not in ascending ordinal order");
            read.Add(item);
        }
        _registers.Clear();
        foreach (var (key, token, value) in read) _registers[key] = (token, value);
    }
}

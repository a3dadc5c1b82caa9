using System.Collections.Immutable;
using System.Text;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Gossip;

/// <summary>
/// An available, eventually consistent key-value map (the AP side of CAP) as a pure core. Any replica accepts a write
/// at once and stamps it with its hybrid logical clock; replicas converge by anti-entropy (Demers et al. 1987): each
/// exchange interval a replica sends one random peer a digest of its versions, the peer answers with the entries the
/// sender lacks and the keys it wants, and the sender answers those. Conflicts resolve last-writer-wins by
/// (HLC, writer id); a delete is a tombstone, kept <see cref="ApStoreConfig.TombstoneTtlMs"/> so an old value cannot
/// come back through a replica that missed the delete.
/// Durable: every entry the replica takes, written here or merged from a peer, is a journal write (an
/// <see cref="ApEntry"/>), so a replica rebuilt by <see cref="Recover"/> from its snapshot and journal holds what it
/// held; a local write is answered (<see cref="ApWriteDurable"/>) only once its entry is durable.
/// </summary>
public sealed class ApStore : IProtocolCore<AntiEntropyMessage, ProtocolReady<AntiEntropyMessage>>
{
    private readonly ReadyBuffer<AntiEntropyMessage> _ready = new();
    private readonly SortedList<string, ApEntry> _entries = new(StringComparer.Ordinal);
    private readonly ImmutableArray<NodeId> _peers;
    private readonly DeterministicRandom _random;
    // Every merged timestamp is accepted, however far ahead: refusing one would leave replicas apart forever. The
    // node's network component already bounds clock skew on the wire (its HLC rejects and counts what is too far ahead).
    private readonly HybridLogicalClock _hlc = new(long.MaxValue / 4);
    private long _nextExchangeAtMs = long.MinValue;
    private long _rounds, _exchanges, _entriesSent, _entriesApplied, _purged;

    public ApStore(NodeId self, IEnumerable<NodeId> peers, ApStoreConfig config, DeterministicRandom random)
    {
        var errors = config.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(config));
        Self = self;
        Config = config;
        _peers = [.. peers.Where(p => p != self).Distinct().Order()];
        _random = random;
    }

    public NodeId Self { get; }
    public ApStoreConfig Config { get; }

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/> at once. A non-zero <paramref name="requestId"/> asks
    /// for an <see cref="ApWriteDurable"/> answer once the entry is durable (the Ready's writes are persisted).
    /// </summary>
    public ApWriteResult Put(string key, string value, long nowMs, long requestId = 0) => Write(key, value, nowMs, requestId);

    public ApWriteResult Delete(string key, long nowMs, long requestId = 0) => Write(key, null, nowMs, requestId);

    /// <summary>
    /// Takes back entries from this replica's snapshot and journal (in journal order) before it runs: an entry replaces
    /// an older version of its key, and the clock merges every version, so later writes are ordered after them all.
    /// </summary>
    public void Recover(IEnumerable<ApEntry> entries, long nowMs)
    {
        foreach (var entry in entries)
        {
            _hlc.Receive(entry.Version.Hlc, nowMs);
            if (_entries.TryGetValue(entry.Key, out var mine) && mine.Version.CompareTo(entry.Version) >= 0) continue;
            _entries[entry.Key] = entry;
        }
    }

    /// <summary>Everything the replica holds, tombstones included: with <see cref="Recover"/>, it replaces the journal before it.</summary>
    public ApSnapshot Snapshot() => new([.. _entries.Values]);

    /// <summary>The key's entry (a tombstone if deleted and not yet purged), or null if this replica never saw it.</summary>
    public ApEntry? Get(string key) => _entries.GetValueOrDefault(key);

    public IList<ApEntry> Entries => _entries.Values;

    /// <summary>Why <paramref name="key"/> or <paramref name="value"/> cannot be stored, or null if they can.</summary>
    public string? Invalid(string key, string? value)
    {
        if (string.IsNullOrEmpty(key)) return "key must not be empty";
        if (key.Length > Config.KeyLengthMax) return $"key longer than {Config.KeyLengthMax} characters";
        if (value is not null && Encoding.UTF8.GetByteCount(value) > Config.ValueBytesMax) return $"value larger than {Config.ValueBytesMax} bytes";
        return null;
    }

    public void Tick(long nowMs)
    {
        if (nowMs < _nextExchangeAtMs) return;
        _nextExchangeAtMs = nowMs + Config.ExchangeIntervalMs;
        _rounds++;
        PurgeTombstones(nowMs);
        // Every configured peer, reachable or not: an exchange with an unreachable one is simply lost.
        if (_peers.Length == 0) return;
        var peer = _peers[_random.NextInt(0, _peers.Length)];
        _exchanges++;
        _ready.Send(peer, new ApDigest(Self, [.. _entries.Values.Select(e => new ApDigestEntry(e.Key, e.Version))]));
    }

    public void Step(AntiEntropyMessage message, long nowMs)
    {
        switch (message)
        {
            case ApDigest d:
                AnswerDigest(d);
                break;
            case ApDelta delta:
                foreach (var entry in delta.Entries) Merge(entry, nowMs);
                if (!delta.IsReply && !delta.Wanted.IsDefaultOrEmpty)
                {
                    var wanted = delta.Wanted.Select(k => _entries.GetValueOrDefault(k)).OfType<ApEntry>().Take(Config.EntriesPerMessageMax).ToImmutableArray();
                    if (wanted.Length > 0) SendEntries(delta.From, new ApDelta(Self, true, wanted, []));
                }
                break;
        }
    }

    public bool HasReady => _ready.HasReady;
    public ProtocolReady<AntiEntropyMessage> TakeReady() => _ready.Take();
    public void Advance(ProtocolReady<AntiEntropyMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants()
    {
        var violations = new List<string>();
        if (_entries.Count > Config.KeysMax) violations.Add($"{_entries.Count} keys, limit {Config.KeysMax}");
        foreach (var e in _entries.Values)
            if (e.Version.Hlc > _hlc.Last) { violations.Add($"key {e.Key} at {e.Version} is ahead of the replica's clock {_hlc.Last}"); break; }
        return violations;
    }

    public ApStoreStatus Status() =>
        new(_rounds, _exchanges, _entriesSent, _entriesApplied, _entries.Count, _entries.Values.Count(e => e.IsTombstone), _purged, _hlc.Last);

    private ApWriteResult Write(string key, string? value, long nowMs, long requestId)
    {
        if (Invalid(key, value) is { } reason) return new ApWriteResult.Refused(reason, TooLarge: reason.StartsWith("value larger", StringComparison.Ordinal));
        if (!_entries.ContainsKey(key) && _entries.Count >= Config.KeysMax) return new ApWriteResult.Refused($"the store holds its limit of {Config.KeysMax} keys");
        // The clock has merged every version this replica holds, so the new version is later than what it replaces.
        var entry = new ApEntry(key, value, new ApVersion(_hlc.Now(nowMs), Self));
        _entries[key] = entry;
        _ready.Persist(entry);
        if (requestId != 0) _ready.Answer(new ApWriteDurable(requestId, entry));
        return new ApWriteResult.Written(entry);
    }

    private void AnswerDigest(ApDigest digest)
    {
        var theirs = new Dictionary<string, ApVersion>(StringComparer.Ordinal);
        foreach (var v in digest.Versions) theirs[v.Key] = v.Version;
        // Push: what they lack or hold older. Pull: what they hold newer, or we lack.
        var push = _entries.Values.Where(e => !theirs.TryGetValue(e.Key, out var v) || v < e.Version).Take(Config.EntriesPerMessageMax).ToImmutableArray();
        var pull = digest.Versions.Where(v => !_entries.TryGetValue(v.Key, out var mine) || mine.Version < v.Version)
            .Select(v => v.Key).Take(Config.EntriesPerMessageMax).ToImmutableArray();
        if (push.Length > 0 || pull.Length > 0) SendEntries(digest.From, new ApDelta(Self, false, push, pull));
    }

    private void SendEntries(NodeId to, ApDelta delta)
    {
        _entriesSent += delta.Entries.Length;
        _ready.Send(to, delta);
    }

    private void Merge(ApEntry incoming, long nowMs)
    {
        _hlc.Receive(incoming.Version.Hlc, nowMs);
        if (_entries.TryGetValue(incoming.Key, out var mine) && mine.Version.CompareTo(incoming.Version) >= 0) return;
        if (mine is null && _entries.Count >= Config.KeysMax) return;
        // A tombstone past its expiry is not taken in: it would only be purged again (and bounce between replicas).
        if (mine is null && incoming.IsTombstone && nowMs - incoming.Version.Hlc.WallMs > Config.TombstoneTtlMs) return;
        _entries[incoming.Key] = incoming;
        _ready.Persist(incoming);
        _entriesApplied++;
    }

    private void PurgeTombstones(long nowMs)
    {
        List<string>? expired = null;
        foreach (var e in _entries.Values)
            if (e.IsTombstone && nowMs - e.Version.Hlc.WallMs > Config.TombstoneTtlMs) (expired ??= []).Add(e.Key);
        if (expired is null) return;
        foreach (var key in expired) _entries.Remove(key);
        _purged += expired.Count;
    }
}

using System.Collections.Immutable;
using static DistSysActors.Core.Paxos.MultiPaxos;

namespace DistSysActors.Core.Paxos;

/// <summary>The learner: decided slots, applied in slot order; catch-up; snapshots and compaction.</summary>
public sealed partial class MultiPaxosNode
{
    // Decided commands above the snapshot (kept a margin below it for catch-up), contiguous or not.
    private readonly SortedDictionary<long, byte[]?> _decided = new();
    private long _catchUpAskedAtMs = NeverMs;
    private const long NeverMs = long.MinValue / 4;

    /// <summary>Every slot up to this one is decided (and applied: the host applies in order).</summary>
    public long DecidedThrough { get; private set; }

    public long AppliedThrough { get; private set; }

    /// <summary>The highest slot known decided here, gaps below it or not.</summary>
    public long LastDecidedSlot => Math.Max(DecidedThrough, _decided.Count == 0 ? 0 : _decided.Keys.Last());

    /// <summary>The last snapshot this node persisted (its own or installed from a peer).</summary>
    public PaxosSnapshot? Snapshot { get; private set; }

    /// <summary>The decided command of a slot this node still holds (null when it is a no-op or not held).</summary>
    public bool TryGetDecided(long slot, out byte[]? command) => _decided.TryGetValue(slot, out command);

    private void RestoreSnapshot(PaxosSnapshot snapshot)
    {
        Snapshot = snapshot;
        DecidedThrough = AppliedThrough = snapshot.Slot;
        CompactAccepted(snapshot.Slot);
        foreach (var slot in _decided.Keys.Where(s => s <= snapshot.Slot).ToArray()) _decided.Remove(slot);
        _nextSlot = Math.Max(_nextSlot, snapshot.Slot + 1);
    }

    /// <summary>Slot <paramref name="slot"/> is decided with <paramref name="command"/>; applies every slot that is now contiguous.</summary>
    private void Decide(long slot, byte[]? command)
    {
        if (_decided.TryGetValue(slot, out var known))
        {
            if (!PaxosCommands.Same(known, command))
                _violations.Add($"node {Id}: slot {slot} decided {PaxosCommands.Describe(known)}, then {PaxosCommands.Describe(command)}");
            return;
        }
        if (slot <= DecidedThrough) return; // decided before, its command compacted away
        _decided[slot] = command;
        while (_decided.TryGetValue(DecidedThrough + 1, out var next))
        {
            DecidedThrough++;
            AppliedThrough = DecidedThrough;
            _ready.Apply(new Committed(DecidedThrough, next));
        }
        ServeReads();
    }

    /// <summary>
    /// The leader at <paramref name="ballot"/> says every slot through <paramref name="decidedThrough"/> is decided. A
    /// slot this acceptor accepted at that same ballot holds the decided command (a leader proposes one command per slot
    /// per ballot); any other slot is asked for.
    /// </summary>
    private void LearnFromLeader(NodeId leader, Ballot ballot, long decidedThrough)
    {
        var upTo = Math.Min(decidedThrough, DecidedThrough + 1_000_000);
        for (var slot = DecidedThrough + 1; slot <= upTo; slot++)
        {
            if (_decided.ContainsKey(slot)) continue;
            if (_accepted.TryGetValue(slot, out var a) && a.Ballot == ballot) Decide(slot, a.Command);
            else
            {
                RequestCatchUp(leader);
                return;
            }
        }
    }

    /// <summary>Asks <paramref name="from"/> (every peer when null) for decided slots after DecidedThrough, at most once per retransmit interval.</summary>
    private void RequestCatchUp(NodeId? from)
    {
        if (_nowMs - _catchUpAskedAtMs < _config.RetransmitMs) return;
        _catchUpAskedAtMs = _nowMs;
        var request = new CatchUpRequest(Id, DecidedThrough + 1);
        if (from is { } node && node != Id) Send(node, request);
        else Broadcast(request);
    }

    private void OnCatchUpRequest(CatchUpRequest m)
    {
        if (m.FromSlot > LastDecidedSlot) return;
        PaxosSnapshot? snapshot = null;
        var first = m.FromSlot;
        if (Snapshot is { } s && first <= s.Slot && !_decided.ContainsKey(first))
        {
            snapshot = s;
            first = s.Slot + 1;
        }
        var commands = ImmutableArray.CreateBuilder<byte[]?>();
        while (commands.Count < _config.CatchUpBatchMax && _decided.TryGetValue(first + commands.Count, out var command)) commands.Add(command);
        if (snapshot is null && commands.Count == 0) return;
        Send(m.From, new CatchUpReply(Id, first, commands.ToImmutable(), snapshot));
    }

    private void OnCatchUpReply(CatchUpReply m)
    {
        if (m.Snapshot is { } snapshot && snapshot.Slot > DecidedThrough) InstallSnapshotFrom(snapshot);
        for (var i = 0; i < m.Commands.Length; i++) Decide(m.FirstSlot + i, m.Commands[i]);
        if (m.Commands.Length > 0 && LastDecidedSlot > DecidedThrough) _catchUpAskedAtMs = NeverMs; // more to fetch
    }

    /// <summary>A peer's snapshot replaces what this node knows through its slot (persisted: the acceptor compacts those slots).</summary>
    private void InstallSnapshotFrom(PaxosSnapshot snapshot)
    {
        _ready.Persist(new SnapshotRecord(snapshot));
        RestoreSnapshot(snapshot);
        _ready.Apply(new InstallSnapshot(snapshot));
        while (_decided.TryGetValue(DecidedThrough + 1, out var next))
        {
            DecidedThrough++;
            AppliedThrough = DecidedThrough;
            _ready.Apply(new Committed(DecidedThrough, next));
        }
        ServeReads();
    }

    /// <summary>
    /// The host's snapshot of its state machine through <paramref name="slot"/> (applied here): persisted, then the
    /// acceptor's slots up to it and decided commands below the catch-up margin are dropped.
    /// </summary>
    public void Compact(long slot, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (slot > AppliedThrough) throw new ArgumentOutOfRangeException(nameof(slot), $"slot {slot} is not applied (applied through {AppliedThrough})");
        if (slot <= CompactedThrough) return;
        var snapshot = new PaxosSnapshot(slot, data);
        _ready.Persist(new SnapshotRecord(snapshot));
        Snapshot = snapshot;
        CompactAccepted(slot);
        var keepFrom = slot - _config.CompactionMarginSlots;
        foreach (var old in _decided.Keys.TakeWhile(k => k < keepFrom).ToArray()) _decided.Remove(old);
    }
}

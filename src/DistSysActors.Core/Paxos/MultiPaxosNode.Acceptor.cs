using System.Collections.Immutable;
using static DistSysActors.Core.Paxos.MultiPaxos;

namespace DistSysActors.Core.Paxos;

/// <summary>The acceptor: one promise for all slots, one accepted (ballot, command) per slot.</summary>
public sealed partial class MultiPaxosNode
{
    private readonly SortedDictionary<long, AcceptedSlot> _accepted = new();
    // Until then the acceptor refuses Prepares from nodes other than the leader it follows (leader stickiness, for leases).
    private long _stickyUntilMs;

    /// <summary>The highest ballot this acceptor promised (durable before any message reveals it).</summary>
    public Ballot Promised { get; private set; } = Ballot.Zero;

    /// <summary>Slots up to this are decided and folded into the snapshot; the acceptor keeps nothing for them.</summary>
    public long CompactedThrough => Snapshot?.Slot ?? 0;

    /// <summary>What this acceptor accepted for a slot (null: nothing, or compacted).</summary>
    public AcceptedSlot? AcceptedAt(long slot) => _accepted.GetValueOrDefault(slot);

    public IReadOnlyCollection<AcceptedSlot> AcceptedSlots => _accepted.Values;

    private void OnPrepare(Prepare m)
    {
        if (m.From != Id && m.From != LeaderId && _nowMs < _stickyUntilMs) return; // still following a live leader
        if (m.Ballot < Promised)
        {
            Send(m.From, new Rejected(Id, m.Ballot, Promised));
            return;
        }
        if (m.Ballot > Promised)
        {
            Promised = m.Ballot;
            _ready.Persist(new PromisedRecord(m.Ballot));
            if (m.From != Id) FollowerOfHigherBallot(m.Ballot);
        }
        var accepted = ImmutableArray.CreateBuilder<AcceptedSlot>();
        foreach (var (slot, a) in _accepted)
            if (slot >= m.FromSlot) accepted.Add(a);
        Send(m.From, new Promise(Id, m.Ballot, m.FromSlot, CompactedThrough, accepted.ToImmutable()));
    }

    private void OnAccept(Accept m)
    {
        if (m.Ballot < Promised)
        {
            Send(m.From, new Rejected(Id, m.Ballot, Promised));
            return;
        }
        var raised = m.Ballot > Promised;
        Promised = m.Ballot;
        if (m.From != Id) HeardLeader(m.From, m.Ballot);
        var changed = false;
        for (var i = 0; i < m.Commands.Length; i++)
        {
            var slot = m.FirstSlot + i;
            if (slot <= CompactedThrough) continue;
            if (_accepted.TryGetValue(slot, out var had) && had.Ballot == m.Ballot) continue; // a retransmission
            _accepted[slot] = new AcceptedSlot(slot, m.Ballot, m.Commands[i]);
            changed = true;
        }
        if (changed) _ready.Persist(new AcceptedRecord(m.Ballot, m.FirstSlot, m.Commands));
        else if (raised) _ready.Persist(new PromisedRecord(m.Ballot));
        Send(m.From, new Accepted(Id, m.Ballot, m.FirstSlot, m.FirstSlot + m.Commands.Length - 1));
        if (m.From != Id) LearnFromLeader(m.From, m.Ballot, m.DecidedThrough);
    }

    private void OnHeartbeat(Heartbeat m)
    {
        if (m.Ballot < Promised)
        {
            Send(m.From, new Rejected(Id, m.Ballot, Promised));
            return;
        }
        HeardLeader(m.From, m.Ballot);
        LearnFromLeader(m.From, m.Ballot, m.DecidedThrough);
        Send(m.From, new HeartbeatAck(Id, m.Ballot, m.Round, DecidedThrough));
    }

    /// <summary>Drops accepted slots folded into a snapshot (decided: phase 1 need not report them, see Promise.CompactedThrough).</summary>
    private void CompactAccepted(long throughSlot)
    {
        while (_accepted.Count > 0)
        {
            var first = _accepted.Keys.First();
            if (first > throughSlot) break;
            _accepted.Remove(first);
        }
    }
}

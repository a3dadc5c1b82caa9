using System.Collections.Immutable;

namespace DistSysActors.Core.Gossip;

/// <summary>Infection-style dissemination (SWIM section 4.1): updates ride on probes and acks, each a bounded number of times.</summary>
public sealed partial class SwimMembership
{
    // The newest update per member, with how many times this node has piggybacked it.
    private readonly SortedList<NodeId, Pending> _broadcasts = new();

    /// <summary>Updates still to be piggybacked.</summary>
    public int PendingBroadcasts => _broadcasts.Count;

    private void Broadcast(MemberUpdate update) => _broadcasts[update.Member] = new Pending(update);

    /// <summary>
    /// The updates for one message to <paramref name="to"/>: first, if we do not think <paramref name="to"/> alive, our
    /// verdict on it (so it can refute at once); then the least-sent updates, up to <see cref="SwimConfig.PiggybackMax"/>.
    /// Each is dropped after <see cref="SwimConfig.RetransmitLimit"/> sends.
    /// </summary>
    private ImmutableArray<MemberUpdate> Piggyback(NodeId to)
    {
        var updates = ImmutableArray.CreateBuilder<MemberUpdate>(Config.PiggybackMax);
        if (_members.TryGetValue(to, out var target) && target.State != MemberState.Alive)
            updates.Add(new MemberUpdate(to, target.State, target.Incarnation, target.Reporter ?? Self));
        if (_broadcasts.Count == 0) return updates.ToImmutable();
        var limit = Config.RetransmitLimit(LiveCount);
        var chosen = _broadcasts
            .Where(kv => kv.Key != to || target?.State == MemberState.Alive)
            .OrderBy(kv => kv.Value.Transmits).ThenBy(kv => kv.Key)
            .Take(Config.PiggybackMax - updates.Count)
            .ToList();
        foreach (var (member, pending) in chosen)
        {
            updates.Add(pending.Update);
            if (++pending.Transmits >= limit) _broadcasts.Remove(member);
        }
        return updates.ToImmutable();
    }

    private sealed class Pending(MemberUpdate update)
    {
        public MemberUpdate Update { get; } = update;
        public int Transmits;
    }
}

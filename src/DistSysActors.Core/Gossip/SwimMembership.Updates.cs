namespace DistSysActors.Core.Gossip;

/// <summary>How updates change the view (SWIM section 4.2's precedence rules), and the suspicion timeouts.</summary>
public sealed partial class SwimMembership
{
    // A message from a member we have never heard of: a join. Add it, and push our whole view so it learns the group.
    private void Learn(NodeId from, long nowMs, bool pushView)
    {
        if (from == Self || _members.ContainsKey(from) || _members.Count >= Config.MembersMax) return;
        _members[from] = new Member(MemberState.Alive, 0, nowMs) { Reporter = Self };
        _ready.Answer(new MemberStateChanged(from, MemberState.Alive, 0, null, nowMs));
        Broadcast(new MemberUpdate(from, MemberState.Alive, 0, Self));
        if (pushView) Send(from, new SwimSync(Self, false, View()));
    }

    private void Merge(MemberUpdate update, long nowMs)
    {
        if (update.Member == Self)
        {
            Refute(update);
            return;
        }
        if (!_members.TryGetValue(update.Member, out var m))
        {
            if (_members.Count >= Config.MembersMax) return;
            _members[update.Member] = m = new Member(update.State, update.Incarnation, nowMs) { Reporter = update.Reporter };
            Count(update.State, +1);
            if (update.State == MemberState.Suspect) m.Confirmations.Add(update.Reporter);
            _ready.Answer(new MemberStateChanged(update.Member, update.State, update.Incarnation, null, nowMs));
            Broadcast(update);
            return;
        }
        switch (update.State)
        {
            // Alive overrides anything at a lower incarnation: only the member raises it, so it is the member's own word.
            case MemberState.Alive when update.Incarnation > m.Incarnation:
                Change(update.Member, m, update, nowMs);
                Broadcast(update);
                break;
            // Suspect overrides Alive at the same or a lower incarnation and Suspect at a lower one; never Dead.
            case MemberState.Suspect when update.Incarnation > m.Incarnation
                                          || (update.Incarnation == m.Incarnation && m.State == MemberState.Alive):
                if (m.State == MemberState.Dead) break;
                Change(update.Member, m, update, nowMs);
                m.Confirmations.Add(update.Reporter);
                if (update.Reporter == Self) SuspicionsRaised++;
                Broadcast(update);
                break;
            // The same suspicion from another member: an independent confirmation shrinks the timeout (Lifeguard 3.3),
            // and is passed on while it still can shrink it for others.
            case MemberState.Suspect when update.Incarnation == m.Incarnation && m.State == MemberState.Suspect:
                if (m.Confirmations.Count <= Config.ConfirmationsExpected(LiveCount) && m.Confirmations.Add(update.Reporter)) Broadcast(update);
                break;
            // Dead overrides everything at the same or a lower incarnation.
            case MemberState.Dead when update.Incarnation >= m.Incarnation:
                if (m.State == MemberState.Dead) { m.Incarnation = update.Incarnation; break; }
                Change(update.Member, m, update, nowMs);
                Broadcast(update);
                break;
        }
    }

    // Someone says we are suspect or dead (or knows a later incarnation of us): raise our incarnation past it and say so (section 4.2).
    private void Refute(MemberUpdate update)
    {
        if (_left) return;
        var me = _members[Self];
        var stale = update.State == MemberState.Alive ? update.Incarnation > me.Incarnation : update.Incarnation >= me.Incarnation;
        if (!stale) return;
        me.Incarnation = update.Incarnation + 1;
        Refutations++;
        Broadcast(new MemberUpdate(Self, MemberState.Alive, me.Incarnation, Self));
    }

    private void Change(NodeId id, Member m, MemberUpdate update, long nowMs)
    {
        var previous = m.State;
        Count(previous, -1);
        Count(update.State, +1);
        m.State = update.State;
        m.Incarnation = update.Incarnation;
        m.ChangedAtMs = nowMs;
        m.Reporter = update.Reporter;
        m.Confirmations.Clear();
        _ready.Answer(new MemberStateChanged(id, update.State, update.Incarnation, previous, nowMs));
    }

    private void Count(MemberState state, int delta)
    {
        if (state == MemberState.Dead) _deadCount += delta;
        else if (state == MemberState.Suspect) _suspectCount += delta;
    }

    private void ExpireSuspicions(long nowMs)
    {
        if (_suspectCount == 0) return;
        List<NodeId>? expired = null;
        var live = LiveCount;
        foreach (var (id, m) in _members)
            if (m.State == MemberState.Suspect && nowMs >= m.ChangedAtMs + Config.SuspicionTimeoutMs(live, m.Confirmations.Count - 1))
                (expired ??= []).Add(id);
        if (expired is null) return;
        foreach (var id in expired)
        {
            var m = _members[id];
            var dead = new MemberUpdate(id, MemberState.Dead, m.Incarnation, Self);
            Change(id, m, dead, nowMs);
            Broadcast(dead);
        }
    }

    /// <summary>When this node's current suspicion of <paramref name="member"/> turns into a death, if it is suspect.</summary>
    public long? SuspicionDeadlineMs(NodeId member) =>
        _members.TryGetValue(member, out var m) && m.State == MemberState.Suspect
            ? m.ChangedAtMs + Config.SuspicionTimeoutMs(LiveCount, m.Confirmations.Count - 1)
            : null;

    /// <summary>Members that reported the current suspicion of <paramref name="member"/> (0 if not suspect).</summary>
    public int ConfirmationsOf(NodeId member) => _members.TryGetValue(member, out var m) ? m.Confirmations.Count : 0;
}

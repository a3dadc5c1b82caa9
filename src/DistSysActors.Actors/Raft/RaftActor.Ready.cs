using Akka.Actor;
using DistSysActors.Actors.LogPipeline;
using Akka.Event;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// How Raft's Readies are executed by the host: each Ready's one <see cref="RaftWrite"/> becomes journal events (term/vote,
/// entries) or, for a snapshot installed from the leader, a snapshot save followed by them; committed entries are
/// applied to the service, read confirmations answered.
/// </summary>
public sealed partial class RaftActor
{
    private (RaftRole Role, long Term, NodeId? Leader) _lastLogged;

    protected override void BeforeReadies() => LogRoleChange(_node!);

    protected override void AfterReadies() => CheckAdmin();

    protected override JournalPlan PlanWrite(object write)
    {
        var w = write as RaftWrite ?? throw new InvalidOperationException($"a Raft Ready writes a {nameof(RaftWrite)}, not a {write.GetType().Name}");
        NoteEntries(w.Entries);
        if (w.Snapshot is { } snapshot)
        {
            // A snapshot from the leader replaces the log through its index: durable before anything that depends on it.
            // It replaces the whole stored log: the entries the node kept after it come again in the write's Entries.
            var state = ToStateSnapshot(snapshot, _node!, w.HardState, keepTail: false);
            var saved = state.HardState.ToHardState();
            _log.Info("{0} saving {1} from the leader (journal sequence {2})", _who, snapshot, LastSequenceNr);
            var (events, hardState) = JournalEvents(w, saved);
            return new JournalPlan(state, events, () => _persistedHardState = hardState ?? saved);
        }
        var (plain, written) = JournalEvents(w, _persistedHardState);
        return new JournalPlan(null, plain, written is null ? null : () => _persistedHardState = written);
    }

    /// <summary>
    /// The events of a write, given the term/vote/commit already durable. Commit alone need not be durable (HardState
    /// remarks: losing it is safe), so a write that moves only the commit index costs no journal write; the next carries it.
    /// </summary>
    private static (IReadOnlyList<object> Events, HardState? Written) JournalEvents(RaftWrite write, HardState persisted)
    {
        var hs = write.HardState;
        if (hs is not null && write.Entries.IsEmpty && hs.Term == persisted.Term && hs.Vote == persisted.Vote) hs = null;
        if (hs is null && write.Entries.IsEmpty) return ([], null);
        // Entries before the hard state, as etcd's WAL does: should a journal ever keep only a prefix of the batch, the
        // stored commit index never covers entries that were not stored.
        var events = new List<object>(2);
        if (!write.Entries.IsEmpty) events.Add(new RaftEntriesSaved(write.Entries[0].Index, ToRecords(write.Entries)));
        if (hs is not null) events.Add(RaftHardStateSaved.From(hs));
        return (events, hs);
    }

    private static RaftEntryRecord[] ToRecords(System.Collections.Immutable.ImmutableArray<LogEntry> entries)
    {
        var records = new RaftEntryRecord[entries.Length];
        for (var i = 0; i < records.Length; i++) records[i] = RaftEntryRecord.From(entries[i]);
        return records;
    }

    public override void Apply(object entry)
    {
        switch (entry)
        {
            case RaftSnapshot installed:
                _service.Restore(installed.Data);
                _appliedMembership = installed.Meta.Membership;
                break;
            case LogEntry committed:
                if (committed.Index <= _service.AppliedIndex) break; // covered by the snapshot just restored
                if (committed.Type == EntryType.ConfChange)
                {
                    // The entry carries the whole membership after the change; the older change-only form is applied like the core does.
                    var change = ConfChange.Decode(committed.Data);
                    _appliedMembership = ConfChange.DecodeMembership(committed.Data)
                        ?? (_appliedMembership.Check(change) is null ? _appliedMembership.Apply(change) : _appliedMembership);
                }
                // Only a normal entry carries a command for the service; no-ops and membership changes just advance its index.
                // Applied under its command's trace, so the answer and anything the service proposes next carry it on.
                using (TraceScope.Enter(TakeEntryTrace(committed.Index)))
                {
                    _service.Apply(committed.Index, committed.Type == EntryType.Normal ? committed.Data : null);
                    if (TraceScope.Current is not null) NodeLog.Of(Context.System)?.Step("raft", $"applied entry {committed.Index} (term {committed.Term})");
                }
                break;
        }
    }

    public override void Answer(object answer)
    {
        switch (answer)
        {
            case ReadState read: _service.ReadConfirmed(read.RequestId); break;
            case ReadDropped dropped: _service.ReadDropped(dropped.RequestId); break;
        }
    }

    /// <summary>One log line per change of role, term or leader, so elections can be watched in the node logs.</summary>
    private void LogRoleChange(RaftNode node)
    {
        var now = (node.Role, node.Term, node.LeaderId);
        if (now.LeaderId is { } leader && _readyWaiters.Count > 0)
        {
            foreach (var waiter in _readyWaiters) waiter.Tell(new RaftReady(leader.Value, now.Term));
            _readyWaiters.Clear();
        }
        if (now == _lastLogged) return;
        if (now.Role == RaftRole.Leader && _lastLogged.Role != RaftRole.Leader) _service.LeadershipGained();
        if (now.LeaderId is not null && now.LeaderId != _lastLogged.Leader) _service.LeaderChanged();
        _lastLogged = now;
        _log.Info("{0} is {1} in term {2}, leader {3}", _who, now.Role, now.Term, now.LeaderId?.ToString() ?? "unknown");
    }
}

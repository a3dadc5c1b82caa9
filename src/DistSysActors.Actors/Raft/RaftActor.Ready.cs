using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// Executing the core's Readies through <see cref="ReadyExecutor"/> with this actor as the environment: send, persist
/// to the journal, send what promises the write, apply to the service, Advance. One Ready is outstanding at a time;
/// messages and proposals keep stepping the core while its write is in flight and go into the next Ready.
/// </summary>
public sealed partial class RaftActor : IReadyEnvironment<RaftMessage>
{
    private bool _persisting;
    private PendingInstall? _installing;
    private bool _flushScheduled;
    // True while ProcessReady's loop runs: a Ready finished inside it needs no new ProcessReady.
    private bool _executing;
    private Action? _afterAdvance;
    private (RaftRole Role, long Term, NodeId? Leader) _lastLogged;

    /// <summary>An installed snapshot's write, waiting for the snapshot save before the rest of its Ready (persist, send, apply).</summary>
    private sealed record PendingInstall(RaftWrite Write, Action OnDurable);

    private void ScheduleFlush()
    {
        // Step every message already queued before taking a Ready, so proposals arriving together share one write.
        if (_flushScheduled) return;
        _flushScheduled = true;
        Self.Tell(Flush.Instance);
    }

    private void ProcessReady()
    {
        var node = _node!;
        LogRoleChange(node);
        var afterAdvance = _afterAdvance ??= AfterAdvance;
        var waitingBefore = _persisting || _installing is not null;
        _executing = true;
        try
        {
            while (!_persisting && _installing is null && node.HasReady)
                ReadyExecutor.Execute(node, node.TakeReady(), this, afterAdvance);
        }
        finally
        {
            _executing = false;
        }
        // A write this call started is checked for admin answers when it finishes.
        if (waitingBefore || (!_persisting && _installing is null)) CheckAdmin();
    }

    private void AfterAdvance()
    {
        MaybeTakeSnapshot();
        // The write finished after ProcessReady returned (journal, snapshot save): take the Readies buffered meanwhile.
        if (!_executing) ProcessReady();
    }

    void IReadyEnvironment<RaftMessage>.Send(Outgoing<RaftMessage> outgoing) =>
        _network.Tell(new NetworkProtocol.Send(outgoing.To, _serviceName, outgoing.Message));

    void IReadyEnvironment<RaftMessage>.Persist(IReadOnlyList<object> writes, Action onDurable)
    {
        if (writes is not [RaftWrite write]) throw new InvalidOperationException($"a Raft Ready carries one write, got {writes.Count}");
        if (write.Snapshot is not null)
        {
            // A snapshot from the leader replaces the log through its index: durable before anything that depends on it.
            _installing = new PendingInstall(write, onDurable);
            SaveInstalledSnapshot();
            return;
        }
        PersistThenContinue(write, onDurable);
    }

    /// <summary>Persists the write's term/vote/entries, then continues the Ready; at once when there is nothing to write.</summary>
    private void PersistThenContinue(RaftWrite write, Action onDurable)
    {
        // Commit alone need not be durable (HardState remarks: losing it is safe), so a Ready that moves only the
        // commit index costs no journal write; the next write carries it.
        var hs = write.HardState;
        if (hs is not null && write.Entries.IsEmpty && hs.Term == _persistedHardState.Term && hs.Vote == _persistedHardState.Vote) hs = null;
        if (hs is null && write.Entries.IsEmpty)
        {
            onDurable();
            return;
        }
        var events = new List<object>(2);
        if (hs is not null) events.Add(RaftHardStateSaved.From(hs));
        if (!write.Entries.IsEmpty) events.Add(new RaftEntriesSaved(write.Entries[0].Index, ToRecords(write.Entries)));
        _persisting = true;
        var last = events[^1];
        // Inputs keep arriving while the write is in flight; the core buffers their effects for the next Ready.
        PersistAllAsync(events, e =>
        {
            if (!ReferenceEquals(e, last)) return;
            _persisting = false;
            if (hs is not null) _persistedHardState = hs;
            onDurable();
        });
    }

    private static RaftEntryRecord[] ToRecords(System.Collections.Immutable.ImmutableArray<LogEntry> entries)
    {
        var records = new RaftEntryRecord[entries.Length];
        for (var i = 0; i < records.Length; i++) records[i] = RaftEntryRecord.From(entries[i]);
        return records;
    }

    void IReadyEnvironment<RaftMessage>.Apply(object entry)
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
                _service.Apply(committed.Index, committed.Type == EntryType.Normal ? committed.Data : null);
                break;
        }
    }

    void IReadyEnvironment<RaftMessage>.Answer(object answer)
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
        _lastLogged = now;
        _log.Info("{0} is {1} in term {2}, leader {3}", _who, now.Role, now.Term, now.LeaderId?.ToString() ?? "unknown");
    }
}

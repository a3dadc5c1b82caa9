using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Raft;

/// <summary>Executing the core's Readys: send, persist, send what promises the write, apply to the service, Advance.</summary>
public sealed partial class RaftActor
{
    private bool _persisting;
    private Ready? _installing;
    private bool _flushScheduled;
    private (RaftRole Role, long Term, NodeId? Leader) _lastLogged;

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
        while (!_persisting && _installing is null && node.HasReady)
        {
            var ready = node.TakeReady();
            Send(ready.MessagesBeforePersist);
            if (ready.Snapshot is not null)
            {
                // A snapshot from the leader replaces the log through its index: durable before anything that depends on it.
                _installing = ready;
                SaveInstalledSnapshot();
                return;
            }
            if (!PersistThenFinish(ready)) continue;
            return;
        }
        CheckAdmin();
    }

    /// <summary>Persists the Ready's term/vote/entries, then finishes it; false (and finished at once) when there is nothing to write.</summary>
    private bool PersistThenFinish(Ready ready)
    {
        var events = new List<object>(2);
        // Commit alone need not be durable (HardState remarks: losing it is safe), so a Ready that moves only the
        // commit index costs no journal write; the next write carries it.
        var hs = ready.HardState;
        if (hs is not null && ready.Entries.IsEmpty && hs.Term == _persistedHardState.Term && hs.Vote == _persistedHardState.Vote) hs = null;
        if (hs is not null) events.Add(RaftHardStateSaved.From(hs));
        if (!ready.Entries.IsEmpty)
            events.Add(new RaftEntriesSaved(ready.Entries[0].Index, ready.Entries.Select(RaftEntryRecord.From).ToArray()));
        if (events.Count == 0)
        {
            Finish(ready);
            return false;
        }
        _persisting = true;
        var last = events[^1];
        // Inputs keep arriving while the write is in flight; the core buffers their effects for the next Ready.
        PersistAllAsync(events, e =>
        {
            if (!ReferenceEquals(e, last)) return;
            _persisting = false;
            if (hs is not null) _persistedHardState = hs;
            Finish(ready);
            ProcessReady();
        });
        return true;
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

    private void Finish(Ready ready)
    {
        Send(ready.Messages);
        if (ready.Snapshot is { } installed)
        {
            _service.Restore(installed.Data);
            _appliedMembership = installed.Meta.Membership;
        }
        foreach (var entry in ready.CommittedEntries)
        {
            if (entry.Index <= _service.AppliedIndex) continue; // covered by the snapshot just restored
            if (entry.Type == EntryType.ConfChange)
            {
                // The entry carries the whole membership after the change; the older change-only form is applied like the core does.
                var change = ConfChange.Decode(entry.Data);
                _appliedMembership = ConfChange.DecodeMembership(entry.Data)
                    ?? (_appliedMembership.Check(change) is null ? _appliedMembership.Apply(change) : _appliedMembership);
            }
            // Only a normal entry carries a command for the service; no-ops and membership changes just advance its index.
            _service.Apply(entry.Index, entry.Type == EntryType.Normal ? entry.Data : null);
        }
        foreach (var read in ready.ReadStates) _service.ReadConfirmed(read.RequestId);
        foreach (var id in ready.ReadsDropped) _service.ReadDropped(id);
        _node!.Advance(ready);
        MaybeTakeSnapshot();
    }

    private void Send(ImmutableArray<RaftMessage> messages)
    {
        foreach (var m in messages) _network.Tell(new NetworkProtocol.Send(m.To, _serviceName, m));
    }
}

using Akka.Event;
using Akka.Persistence;
using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Actors.Raft;

/// <summary>Snapshots of the service's state machine (paper section 7): taking one, saving an installed one, compaction.</summary>
public sealed partial class RaftActor
{
    private SnapshotSave? _snapshotSave;
    private DateTime _snapshotRetryAt = DateTime.MinValue;

    /// <summary>
    /// Takes a snapshot of the service's state machine at the applied index once that many entries follow the last one. Called only
    /// between journal writes, so the snapshot's sequence number covers exactly the events already durable, and the
    /// events persisted after it (all with higher sequence numbers) replay on top of it at recovery.
    /// </summary>
    private void MaybeTakeSnapshot()
    {
        var node = _node!;
        if (_persisting || _snapshotSave is not null || DateTime.UtcNow < _snapshotRetryAt) return;
        var applied = node.AppliedIndex;
        if (applied - (node.FirstLogIndex - 1) < _settings.SnapshotEntries) return;
        var meta = node.SnapshotMetaAt(applied);
        var snapshot = new RaftSnapshot(meta, _service.Snapshot());
        StartSnapshotSave(new SnapshotSave(snapshot, ToStateSnapshot(snapshot, node), Installed: null));
    }

    /// <summary>Saves the snapshot of the Ready being installed; the Ready continues (persist, send, apply) once it is durable.</summary>
    private void SaveInstalledSnapshot()
    {
        if (_snapshotSave is not null || _installing is not { Write.Snapshot: { } snapshot } install) return; // starts when the save in flight ends
        // It replaces the whole stored log: the entries the node kept after it come again in the Ready's Entries.
        StartSnapshotSave(new SnapshotSave(snapshot, ToStateSnapshot(snapshot, _node!, install.Write.HardState, keepTail: false), install));
    }

    private void StartSnapshotSave(SnapshotSave save)
    {
        _snapshotSave = save with { SequenceNr = LastSequenceNr };
        _log.Info("{0} saving {1} (journal sequence {2})", _who, save.Snapshot, LastSequenceNr);
        SaveSnapshot(save.State);
    }

    /// <summary>
    /// The state a snapshot must carry: the log entries after it that the journal holds (only durable ones; later
    /// ones follow as events) and term/vote/commit, commit capped at the last of those entries so recovery from the
    /// snapshot alone is consistent.
    /// </summary>
    private RaftStateSnapshot ToStateSnapshot(RaftSnapshot snapshot, RaftNode node, HardState? pendingHardState = null, bool keepTail = true)
    {
        var stable = keepTail ? node.Status.StableIndex : snapshot.Meta.Index;
        var tail = node.Log.Where(e => e.Index > snapshot.Meta.Index && e.Index <= stable).Select(RaftEntryRecord.From).ToArray();
        var hs = pendingHardState ?? _persistedHardState;
        var lastIndex = tail.Length > 0 ? tail[^1].Index : snapshot.Meta.Index;
        hs = hs with { Commit = Math.Clamp(hs.Commit, snapshot.Meta.Index, lastIndex), Term = Math.Max(hs.Term, snapshot.Meta.Term) };
        var m = snapshot.Meta.Membership;
        return new RaftStateSnapshot(RaftHardStateSaved.From(hs), snapshot.Meta.Index, snapshot.Meta.Term,
            m.Voters.Select(v => v.Value).ToArray(), m.Learners.Select(l => l.Value).ToArray(), snapshot.Data, tail);
    }

    private bool OnSnapshotCommand(object message)
    {
        switch (message)
        {
            case SaveSnapshotSuccess ok when _snapshotSave is { } save && ok.Metadata.SequenceNr == save.SequenceNr:
                _snapshotSave = null;
                _log.Info("{0} saved {1}", _who, save.Snapshot);
                if (save.Installed is { } install)
                {
                    _persistedHardState = save.State.HardState.ToHardState();
                    _installing = null;
                    PersistThenContinue(install.Write, install.OnDurable);
                }
                else
                {
                    _node!.Compact(save.Snapshot);
                }
                // Akka.Persistence.Sql marks the rows deleted and physically deletes all but the highest one (it keeps the sequence number), so the journal stays bounded.
                if (ok.Metadata.SequenceNr > 0) DeleteMessages(ok.Metadata.SequenceNr);
                // Some stores read a bound of 0 as "no bound" and would delete this snapshot too.
                if (ok.Metadata.SequenceNr > 1) DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
                SaveInstalledSnapshot();
                ScheduleFlush();
                return true;
            case SaveSnapshotFailure failed when _snapshotSave is { } save && failed.Metadata.SequenceNr == save.SequenceNr:
                // Nothing is lost: the journal still holds everything; an installed snapshot's Ready waits and is saved again.
                _log.Error(failed.Cause, "{0} could not save {1}; retrying in {2}", _who, save.Snapshot, SnapshotRetryDelay);
                _snapshotSave = null;
                _snapshotRetryAt = DateTime.UtcNow + SnapshotRetryDelay;
                if (_installing is not null) Timers.StartSingleTimer(RetrySnapshot.Instance, RetrySnapshot.Instance, SnapshotRetryDelay);
                return true;
            case RetrySnapshot:
                SaveInstalledSnapshot();
                return true;
            case SaveSnapshotSuccess or SaveSnapshotFailure:
                return true;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess:
                return true;
            case DeleteMessagesFailure f:
                _log.Warning("{0} could not truncate the journal through {1}: {2}", _who, f.ToSequenceNr, f.Cause.Message);
                return true;
            case DeleteSnapshotsFailure f:
                _log.Warning("{0} could not delete old snapshots: {1}", _who, f.Cause.Message);
                return true;
            default:
                return false;
        }
    }

    private static readonly TimeSpan SnapshotRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>The one snapshot save in flight: the host's own (Installed null) or a leader's that a Ready waits for.</summary>
    private sealed record SnapshotSave(RaftSnapshot Snapshot, RaftStateSnapshot State, PendingInstall? Installed, long SequenceNr = 0);

    private sealed record RetrySnapshot
    {
        public static readonly RetrySnapshot Instance = new();
    }
}

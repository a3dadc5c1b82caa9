using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Protocol;

/// <summary>The durable host's snapshots: its own between writes, and those a write carries; then journal compaction.</summary>
public abstract partial class DurableProtocolHostActor<TMessage, TReady>
{
    // ------------------------------------------------------------------ snapshots and compaction

    private void MaybeTakeSnapshot()
    {
        if (_snapshotSave is not null || DateTime.UtcNow < _snapshotRetryAt || !ShouldTakeSnapshot()) return;
        _eventsSinceSnapshot = 0;
        StartSave(SnapshotState(), write: null);
    }

    /// <summary>Saves the snapshot a write carries once no other save is in flight; the write's events follow it.</summary>
    private void StartWaitingSave()
    {
        if (_snapshotSave is not null || _waitingForSave is not { Plan.Snapshot: { } snapshot } pending) return;
        StartSave(snapshot, pending);
    }

    private void StartSave(object state, PendingWrite? write)
    {
        // Saved between journal writes, so the snapshot covers exactly the events already durable (sequence numbers
        // up to LastSequenceNr) and every later event replays on top of it at recovery.
        _snapshotSave = new SnapshotSave(state, LastSequenceNr, write);
        SaveSnapshot(state);
    }

    private void OnSnapshotSaved(SaveSnapshotSuccess ok)
    {
        if (_snapshotSave is not { } save || ok.Metadata.SequenceNr != save.SequenceNr) return;
        _snapshotSave = null;
        if (save.Write is { } write)
        {
            _waitingForSave = null;
            PersistEvents(write);
        }
        else
        {
            OnSnapshotTaken(save.State);
        }
        // Akka.Persistence.Sql marks the rows deleted and physically deletes all but the highest one (it keeps the
        // sequence number), so the journal stays bounded. Some stores read a bound of 0 as "no bound" and would
        // delete this snapshot too, hence the guards.
        if (ok.Metadata.SequenceNr > 0) DeleteMessages(ok.Metadata.SequenceNr);
        if (ok.Metadata.SequenceNr > 1) DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
        StartWaitingSave();
        Flush();
    }

    private void OnSnapshotFailed(SaveSnapshotFailure failed)
    {
        if (_snapshotSave is not { } save || failed.Metadata.SequenceNr != save.SequenceNr) return;
        // Nothing is lost: the journal still holds everything; a write waiting for its snapshot is saved again.
        Log.Error(failed.Cause, "{0}: could not save a snapshot; retrying in {1}", PersistenceId, SnapshotRetryDelay);
        _snapshotSave = null;
        _snapshotRetryAt = DateTime.UtcNow + SnapshotRetryDelay;
        if (_waitingForSave is not null) Timers.StartSingleTimer(RetrySnapshotSave.Instance, RetrySnapshotSave.Instance, SnapshotRetryDelay);
    }
}

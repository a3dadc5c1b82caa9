using Akka.Event;
using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// Snapshots of the service's state machine (paper section 7): when to take one, what it holds, recovering from one.
/// The host saves it between journal writes and deletes the journal it covers.
/// </summary>
public sealed partial class RaftActor
{
    // The snapshot the host is saving for this replica, which the core compacts to once it is durable.
    private RaftSnapshot? _snapshotTaking;

    /// <summary>Once that many applied entries follow the last snapshot, take one at the applied index.</summary>
    protected override bool ShouldTakeSnapshot()
    {
        var node = _node!;
        // Committed entries may be applied before this replica's own write of them: snapshot only what the journal holds.
        return node.AppliedIndex - (node.Snapshot?.Meta.Index ?? 0) >= _settings.SnapshotEntries && node.AppliedIndex <= node.Status.StableIndex;
    }

    protected override object SnapshotState()
    {
        var node = _node!;
        var snapshot = new RaftSnapshot(node.SnapshotMetaAt(node.AppliedIndex), _service.Snapshot());
        _snapshotTaking = snapshot;
        _log.Info("{0} saving {1} (journal sequence {2})", _who, snapshot, LastSequenceNr);
        return ToStateSnapshot(snapshot, node);
    }

    protected override void OnSnapshotTaken(object state)
    {
        if (_snapshotTaking is not { } snapshot) return;
        _snapshotTaking = null;
        _log.Info("{0} saved {1}", _who, snapshot);
        _node!.Compact(snapshot);
    }

    protected override void RestoreSnapshot(object snapshot)
    {
        if (snapshot is not RaftStateSnapshot saved)
            throw new InvalidOperationException($"{PersistenceId}: the snapshot store offered a {snapshot?.GetType().Name ?? "null"}, not a {nameof(RaftStateSnapshot)}");
        _recoveredSnapshot = saved.ToSnapshot();
        _recoveredHardState = saved.HardState.ToHardState();
        _recoveredLog.Clear();
        _recoveredLog.AddRange(saved.Tail.Select(e => e.ToEntry()));
        _service.Restore(saved.Data);
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
}

using System.Buffers;

namespace DistSysActors.Core.Raft;

/// <summary>Snapshots and compaction, InstallSnapshot on both sides (paper section 7, Figure 13).</summary>
public sealed partial class RaftNode
{
    /// <summary>
    /// The meta a snapshot of the state machine taken right after applying <paramref name="index"/> must carry: the
    /// entry's term and the membership in force at that index. The index must be applied and still in the log.
    /// </summary>
    public SnapshotMeta SnapshotMetaAt(long index)
    {
        if (index > AppliedIndex) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is not applied (applied {AppliedIndex})");
        if (index == _log.SnapshotIndex && _snapshot is not null) return _snapshot.Meta;
        var term = _log.TermAt(index) ?? throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is not in the log ({_log.FirstIndex}..{_log.LastIndex})");
        return new SnapshotMeta(index, term, MembershipThrough(index));
    }

    /// <summary>
    /// The host saved <paramref name="snapshot"/> (state machine through Meta.Index, made with <see cref="SnapshotMetaAt"/>)
    /// durably: the log is compacted through it and it is what this node sends to followers that need compacted entries.
    /// The host may then delete its stored entries through Meta.Index (and keep those after it). Allowed at any time,
    /// also while a Ready is outstanding (the index is at most <see cref="AppliedIndex"/>, which only Advance moves, so
    /// the outstanding Ready's entries all lie after it). Snapshots not newer than the current one are ignored.
    /// </summary>
    public void Compact(RaftSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Meta.Index <= _log.SnapshotIndex) return;
        if (snapshot.Meta.Index > AppliedIndex) throw new ArgumentException($"snapshot index {snapshot.Meta.Index} is beyond the applied index {AppliedIndex}", nameof(snapshot));
        if (_log.TermAt(snapshot.Meta.Index) != snapshot.Meta.Term) throw new ArgumentException($"snapshot {snapshot.Meta.Index}@{snapshot.Meta.Term} does not match the log", nameof(snapshot));
        // Keep a margin of entries before the snapshot in memory: a follower slightly behind gets appends, not the snapshot.
        _log.CompactTo(Math.Max(_log.SnapshotIndex, snapshot.Meta.Index - _config.CompactionMarginEntries));
        _snapshot = snapshot;
        _baseMembership = snapshot.Meta.Membership;
    }

    /// <summary>
    /// Raft paper Figure 13: assemble the chunks in order; on the last, replace the log by the snapshot and hand it to
    /// the host. A snapshot whose index and term the log already holds is not installed at all (etcd's raft, restore()):
    /// only the commit index moves. Answers wait for the Ready's persistence like append acknowledgements.
    /// </summary>
    private void HandleInstallSnapshot(InstallSnapshot m)
    {
        _electionElapsed = 0;
        LeaderId = m.From;
        _leaderContactMs = _nowMs;
        var meta = m.Meta;
        if (meta.Index <= CommitIndex)
        {
            // Already covered by what this node holds (or is installing): nothing to do.
            _incoming = null;
            Send(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, 0, true));
            return;
        }
        if (meta.Index <= _log.LastIndex && _log.MatchTerm(meta.Index, meta.Term))
        {
            // The log holds the snapshot's last entry, so (Log Matching) everything the snapshot stands for: commit it.
            // Installing it would make the host replace its stored log and write the entries after it again, and a
            // crash in between would lose entries this node may have acknowledged (a late snapshot, reordered behind
            // the appends that brought this node past it). The committed entries reach the state machine from the log.
            _incoming = null;
            CommitTo(meta.Index);
            Send(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, 0, true));
            return;
        }
        if (m.Offset == 0) _incoming = new IncomingSnapshot(meta);
        var have = _incoming is not null && _incoming.Meta == meta ? _incoming.Data.WrittenCount : 0;
        if (_incoming is null || _incoming.Meta != meta || m.Offset != have)
        {
            SendBeforePersist(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, have, false));
            return;
        }
        if (have + (long)m.Data.Length > _config.SnapshotBytesMax)
        {
            _incoming = null;
            SendBeforePersist(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, 0, false));
            return;
        }
        _incoming.Data.Write(m.Data);
        if (!m.Done)
        {
            SendBeforePersist(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, _incoming.Data.WrittenCount, false));
            return;
        }
        var snapshot = new RaftSnapshot(meta, _incoming.Data.WrittenSpan.ToArray());
        _incoming = null;
        _log.RestoreSnapshot(meta.Index, meta.Term);
        _snapshot = snapshot;
        _baseMembership = meta.Membership;
        RebuildMembership();
        CommitIndex = meta.Index;
        _commitTimeline.Record(meta.Index, _nowMs);
        _snapshotToInstall = snapshot;
        Send(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, snapshot.Data.Length, true));
    }

    /// <summary>The next chunk of the pending snapshot, unless the window of chunks in flight is full.</summary>
    private bool SendSnapshotChunk(NodeId peer, Progress pr)
    {
        if (!pr.CanSendSnapshotChunk) return false;
        var snapshot = pr.PendingSnapshot!;
        var offset = (int)pr.SnapshotSentOffset;
        var length = Math.Min(_config.SnapshotChunkBytes, snapshot.Data.Length - offset);
        var done = offset + length == snapshot.Data.Length;
        SendBeforePersist(new InstallSnapshot(Id, peer, Term, snapshot.Meta, offset, snapshot.Data.AsSpan(offset, length).ToArray(), done));
        pr.OnSnapshotChunkSent(offset + length, _ticksTotal);
        return true;
    }

    private void HandleSnapshotResponse(InstallSnapshotResponse m)
    {
        if (!_progress.TryGetValue(m.From, out var pr)) return;
        pr.RecentActive = true;
        pr.LastHeardMs = _nowMs;
        if (!m.Done)
        {
            if (pr.State == ProgressState.Snapshot && pr.PendingSnapshot!.Meta.Index == m.SnapshotIndex)
            {
                pr.OnSnapshotChunkAnswered(m.NextOffset);
                while (SendSnapshotChunk(m.From, pr)) { }
            }
            return;
        }
        // The follower holds everything through the snapshot: continue with the entries after it.
        pr.MaybeUpdate(m.SnapshotIndex);
        if (pr.State == ProgressState.Probe || pr.State == ProgressState.Snapshot && pr.Match >= pr.PendingSnapshot!.Meta.Index)
            pr.BecomeReplicate();
        if (MaybeCommit()) BroadcastAppend(sendIfEmpty: false);
        SendAppend(m.From, sendIfEmpty: true);
        while (SendAppend(m.From, sendIfEmpty: false)) { }
        AfterLeaderProgress(m.From);
    }
}

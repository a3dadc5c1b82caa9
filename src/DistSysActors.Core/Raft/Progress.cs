namespace DistSysActors.Core.Raft;

internal enum ProgressState
{
    /// <summary>Next index unknown: one AppendEntries at a time until a follower accepts.</summary>
    Probe,
    /// <summary>Follower in step: stream entries optimistically up to the in-flight limits.</summary>
    Replicate,
    /// <summary>Follower needs compacted entries: the leader streams its snapshot, a window of chunks in flight.</summary>
    Snapshot,
}

/// <summary>A leader's view of one follower (Raft paper Figure 2: nextIndex, matchIndex) plus flow control.</summary>
/// <param name="snapshotWindowBytes">Snapshot bytes sent and not yet acknowledged at most (several chunks in flight).</param>
internal sealed class Progress(long next, int inflightMax, long inflightBytesMax = long.MaxValue, long snapshotWindowBytes = 1)
{
    private readonly Queue<(long LastIndex, long Bytes)> _inflight = new();
    private long _inflightBytes;

    public long Match { get; private set; }
    public long Next { get; private set; } = next;
    public ProgressState State { get; private set; } = ProgressState.Probe;
    public bool ProbeSent { get; private set; }
    /// <summary>Heard from since the last CheckQuorum round.</summary>
    public bool RecentActive { get; set; }
    /// <summary>Largest heartbeat round this follower answered in the current term.</summary>
    public long AckedRound { get; set; }
    /// <summary>Highest commit index this follower was told that it can apply (capped at what it holds).</summary>
    public long CommitSent { get; set; }
    /// <summary>The follower's applied index as its latest heartbeat answer reported it.</summary>
    public long Applied { get; set; }
    /// <summary>The leader's clock (ms) when this follower last answered anything; how replication lag tells a dead link.</summary>
    public long LastHeardMs { get; set; }

    /// <summary>The snapshot being sent (kept even if the leader compacts again meanwhile, so chunks stay consistent).</summary>
    public RaftSnapshot? PendingSnapshot { get; private set; }
    /// <summary>Byte of the pending snapshot's data the follower expects next (everything before it is acknowledged).</summary>
    public long SnapshotOffset { get; private set; }
    /// <summary>Byte of the pending snapshot's data to send next; the bytes between SnapshotOffset and it are in flight.</summary>
    public long SnapshotSentOffset { get; private set; }
    public bool SnapshotChunkInFlight => SnapshotSentOffset > SnapshotOffset;
    public long SnapshotChunkSentTick { get; private set; }

    /// <summary>Another chunk may go: data is left to send and the window of unacknowledged bytes is not full.</summary>
    public bool CanSendSnapshotChunk => PendingSnapshot is { } s && SnapshotSentOffset < s.Data.Length && SnapshotSentOffset - SnapshotOffset < snapshotWindowBytes;

    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Snapshot => !CanSendSnapshotChunk,
        _ => _inflight.Count >= inflightMax || _inflightBytes >= inflightBytesMax,
    };

    public int InflightCount => _inflight.Count;
    public long InflightBytes => _inflightBytes;

    public void BecomeProbe()
    {
        Reset(ProgressState.Probe);
        Next = Match + 1;
    }

    public void BecomeReplicate()
    {
        Reset(ProgressState.Replicate);
        Next = Match + 1;
    }

    public void BecomeSnapshot(RaftSnapshot snapshot)
    {
        Reset(ProgressState.Snapshot);
        PendingSnapshot = snapshot;
    }

    private void Reset(ProgressState state)
    {
        State = state;
        ProbeSent = false;
        _inflight.Clear();
        _inflightBytes = 0;
        PendingSnapshot = null;
        SnapshotOffset = 0;
        SnapshotSentOffset = 0;
    }

    public void OnSent(long lastSentIndex, int entryCount, long bytes = 0)
    {
        if (State == ProgressState.Replicate)
        {
            if (entryCount > 0)
            {
                Next = lastSentIndex + 1;
                _inflight.Enqueue((lastSentIndex, bytes));
                _inflightBytes += bytes;
            }
        }
        else ProbeSent = true;
    }

    /// <summary>A chunk ending at <paramref name="endOffset"/> was sent.</summary>
    public void OnSnapshotChunkSent(long endOffset, long tick)
    {
        SnapshotSentOffset = endOffset;
        SnapshotChunkSentTick = tick;
    }

    /// <summary>
    /// The follower answered a chunk: it expects nextOffset. An answer that acknowledges nothing new means the follower
    /// refused a chunk out of order (one before it was lost) or restarts the transfer (0): send again from nextOffset.
    /// </summary>
    public void OnSnapshotChunkAnswered(long nextOffset)
    {
        nextOffset = Math.Clamp(nextOffset, 0, PendingSnapshot?.Data.Length ?? 0);
        if (nextOffset > SnapshotOffset)
        {
            SnapshotOffset = nextOffset;
            SnapshotSentOffset = Math.Max(SnapshotSentOffset, nextOffset);
        }
        else
        {
            SnapshotOffset = nextOffset;
            SnapshotSentOffset = nextOffset;
        }
    }

    /// <summary>No chunk was answered in time (lost, or the follower is slow to persist): send again from the last acknowledged byte.</summary>
    public void OnSnapshotChunkTimeout() => SnapshotSentOffset = SnapshotOffset;

    /// <summary>A follower confirmed its log matches through index; false if that is old news.</summary>
    public bool MaybeUpdate(long index)
    {
        var updated = index > Match;
        if (updated)
        {
            Match = index;
            ProbeSent = false;
        }
        Next = Math.Max(Next, index + 1);
        while (_inflight.Count > 0 && _inflight.Peek().LastIndex <= index) _inflightBytes -= _inflight.Dequeue().Bytes;
        return updated;
    }

    /// <summary>A follower refused the entry at rejected; hintNext is the leader's guess from the conflict hint. False if stale.</summary>
    public bool MaybeDecrease(long rejected, long hintNext)
    {
        if (State == ProgressState.Snapshot) return false; // refusals of appends sent before the snapshot started
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match) return false;
            BecomeProbe();
            Next = Math.Clamp(hintNext, Match + 1, Math.Max(Match + 1, rejected));
            return true;
        }
        if (Next - 1 != rejected) return false;
        Next = Math.Clamp(hintNext, Match + 1, Math.Max(Match + 1, rejected));
        ProbeSent = false;
        return true;
    }

    /// <summary>A heartbeat answer proves the follower is alive: allow one more message.</summary>
    public void OnHeartbeatResponse()
    {
        ProbeSent = false;
        if (State == ProgressState.Replicate && _inflight.Count > 0 && (_inflight.Count >= inflightMax || _inflightBytes >= inflightBytesMax))
            _inflightBytes -= _inflight.Dequeue().Bytes;
    }
}

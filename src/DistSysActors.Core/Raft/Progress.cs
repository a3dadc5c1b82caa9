namespace DistSysActors.Core.Raft;

internal enum ProgressState
{
    /// <summary>Next index unknown: one AppendEntries at a time until a follower accepts.</summary>
    Probe,
    /// <summary>Follower in step: stream entries optimistically up to the in-flight limit.</summary>
    Replicate,
}

/// <summary>A leader's view of one follower (Raft paper Figure 2: nextIndex, matchIndex) plus flow control.</summary>
internal sealed class Progress(long next, int inflightMax)
{
    private readonly Queue<long> _inflight = new();

    public long Match { get; private set; }
    public long Next { get; private set; } = next;
    public ProgressState State { get; private set; } = ProgressState.Probe;
    public bool ProbeSent { get; private set; }
    /// <summary>Heard from since the last CheckQuorum round.</summary>
    public bool RecentActive { get; set; }
    /// <summary>Largest heartbeat round this follower answered in the current term.</summary>
    public long AckedRound { get; set; }

    public bool IsPaused => State == ProgressState.Probe ? ProbeSent : _inflight.Count >= inflightMax;
    public int InflightCount => _inflight.Count;

    public void BecomeProbe()
    {
        State = ProgressState.Probe;
        Next = Match + 1;
        ProbeSent = false;
        _inflight.Clear();
    }

    public void BecomeReplicate()
    {
        State = ProgressState.Replicate;
        Next = Match + 1;
        ProbeSent = false;
        _inflight.Clear();
    }

    public void OnSent(long lastSentIndex, int entryCount)
    {
        if (State == ProgressState.Replicate)
        {
            if (entryCount > 0)
            {
                Next = lastSentIndex + 1;
                _inflight.Enqueue(lastSentIndex);
            }
        }
        else ProbeSent = true;
    }

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
        while (_inflight.Count > 0 && _inflight.Peek() <= index) _inflight.Dequeue();
        return updated;
    }

    /// <summary>A follower refused the entry at rejected; hintNext is the leader's guess from the conflict hint. False if stale.</summary>
    public bool MaybeDecrease(long rejected, long hintNext)
    {
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
        if (State == ProgressState.Replicate && _inflight.Count >= inflightMax) _inflight.Dequeue();
    }
}

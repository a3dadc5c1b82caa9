using DistSysActors.Core.Raft;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>The leader's per-follower flow control (nextIndex/matchIndex of Figure 2 plus probe/replicate states).</summary>
public sealed class ProgressTests
{
    [Fact]
    public void ProbeSendsOneMessageUntilAnswered()
    {
        var pr = new Progress(next: 6, inflightMax: 4);
        Assert.False(pr.IsPaused);
        pr.OnSent(lastSentIndex: 7, entryCount: 2);
        Assert.True(pr.IsPaused);
        Assert.Equal(6, pr.Next); // probing does not advance Next optimistically
        pr.OnHeartbeatResponse();
        Assert.False(pr.IsPaused);
    }

    [Fact]
    public void ReplicateStreamsUpToInflightLimit()
    {
        var pr = new Progress(next: 1, inflightMax: 2);
        pr.MaybeUpdate(0);
        pr.BecomeReplicate();
        pr.OnSent(3, 3);
        pr.OnSent(5, 2);
        Assert.Equal(6, pr.Next);
        Assert.True(pr.IsPaused);
        Assert.True(pr.MaybeUpdate(3)); // frees the first message
        Assert.False(pr.IsPaused);
        Assert.Equal(1, pr.InflightCount);
    }

    [Theory]
    [InlineData(5, 5, false)]  // an old acknowledgement
    [InlineData(5, 4, false)]
    [InlineData(5, 6, true)]
    public void MaybeUpdateIgnoresOldAcknowledgements(long match, long acked, bool updated)
    {
        var pr = new Progress(next: 1, inflightMax: 4);
        pr.MaybeUpdate(match);
        Assert.Equal(updated, pr.MaybeUpdate(acked));
        Assert.Equal(Math.Max(match, acked), pr.Match);
    }

    [Theory]
    // replicate: a refusal at or below Match is stale; otherwise fall back to probing from the hint
    [InlineData(true, 5, 10, 5, 3, false, 10)]
    [InlineData(true, 5, 10, 8, 7, true, 7)]
    [InlineData(true, 5, 10, 8, 2, true, 6)]   // the hint never goes below Match + 1
    // probe: only the refusal of the index just probed counts
    [InlineData(false, 0, 10, 7, 3, false, 10)]
    [InlineData(false, 0, 10, 9, 3, true, 3)]
    [InlineData(false, 0, 10, 9, 12, true, 9)]      // nor above the refused index
    public void MaybeDecreaseUsesHintAndIgnoresStaleRefusals(bool replicate, long match, long next, long rejected, long hint, bool decreased, long expectedNext)
    {
        var pr = new Progress(next, inflightMax: 4);
        pr.MaybeUpdate(match);
        if (replicate)
        {
            pr.BecomeReplicate();
            pr.OnSent(next - 1, (int)(next - 1 - match));
        }
        else
        {
            // Probe at next: Next stays where the constructor put it unless Match moved past it.
            Assert.Equal(next, pr.Next);
        }
        Assert.Equal(decreased, pr.MaybeDecrease(rejected, hint));
        Assert.Equal(expectedNext, pr.Next);
    }

    [Fact]
    public void InflightBytesLimitPausesReplicationUntilAcknowledged()
    {
        var pr = new Progress(1, inflightMax: 100, inflightBytesMax: 100);
        pr.BecomeReplicate();
        pr.OnSent(1, 1, 60);
        Assert.False(pr.IsPaused);
        pr.OnSent(2, 1, 60);
        Assert.True(pr.IsPaused);
        Assert.Equal(120, pr.InflightBytes);
        pr.MaybeUpdate(1);
        Assert.False(pr.IsPaused);
        Assert.Equal(60, pr.InflightBytes);
    }

    [Fact]
    public void SnapshotStateAllowsOneChunkInFlightByDefault()
    {
        var pr = new Progress(1, inflightMax: 4);
        pr.BecomeSnapshot(new RaftSnapshot(new SnapshotMeta(5, 1, Membership.Empty), new byte[10]));
        Assert.False(pr.IsPaused);
        pr.OnSnapshotChunkSent(endOffset: 4, tick: 3);
        Assert.True(pr.IsPaused);
        pr.OnSnapshotChunkAnswered(4);
        Assert.False(pr.IsPaused);
        pr.OnSnapshotChunkAnswered(20); // clamped to the snapshot's size
        Assert.Equal(10, pr.SnapshotOffset);
        Assert.False(pr.MaybeDecrease(4, 1)); // refusals of older appends do not interrupt the snapshot
    }

    [Fact]
    public void SnapshotWindowKeepsSeveralChunksInFlightAndResendsFromTheFollowersOffsetAfterALoss()
    {
        var pr = new Progress(1, inflightMax: 4, snapshotWindowBytes: 3 * 4);
        pr.BecomeSnapshot(new RaftSnapshot(new SnapshotMeta(5, 1, Membership.Empty), new byte[40]));
        for (var end = 4; end <= 12; end += 4)
        {
            Assert.True(pr.CanSendSnapshotChunk);
            pr.OnSnapshotChunkSent(end, tick: 1);
        }
        Assert.True(pr.IsPaused); // three chunks (12 bytes) unacknowledged
        pr.OnSnapshotChunkAnswered(4);
        Assert.True(pr.CanSendSnapshotChunk);
        Assert.Equal(12, pr.SnapshotSentOffset); // the window moved, the sending position did not

        // The chunk at 4 was lost: the follower answers the one at 8 with the offset it still expects.
        pr.OnSnapshotChunkAnswered(4);
        Assert.Equal((4L, 4L), (pr.SnapshotOffset, pr.SnapshotSentOffset));
        pr.OnSnapshotChunkSent(8, tick: 2);
        pr.OnSnapshotChunkTimeout();
        Assert.Equal(4, pr.SnapshotSentOffset); // unanswered: from the last acknowledged byte again
    }
}

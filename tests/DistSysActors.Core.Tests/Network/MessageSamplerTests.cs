using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Core.Tests.Network;

public sealed class MessageSamplerTests
{
    private static readonly NodeId N1 = new(1), N2 = new(2), N3 = new(3);

    [Fact]
    public void A_frequent_kind_is_thinned_to_one_sample_per_interval_carrying_the_count_it_stands_for()
    {
        var sampler = new MessageSampler(capacity: 16, intervalMs: 100);
        for (var t = 0; t < 250; t += 10) sampler.Offer(t, N1, N2, "raft", "AppendEntries", MessageOutcome.Sent);
        var samples = sampler.Since(0);
        Assert.Equal([0L, 100L, 200L], samples.Select(s => s.AtMs));
        Assert.Equal([1, 10, 10], samples.Select(s => s.Count));
    }

    [Fact]
    public void A_rare_kind_and_a_message_a_fault_changed_are_always_kept()
    {
        var sampler = new MessageSampler(capacity: 16, intervalMs: 1000);
        sampler.Offer(0, N1, N2, "raft", "AppendEntries", MessageOutcome.Sent);
        Assert.True(sampler.Offer(1, N1, N2, "raft", "RequestVote", MessageOutcome.Sent));
        Assert.True(sampler.Offer(2, N1, N3, "raft", "AppendEntries", MessageOutcome.Sent));
        Assert.True(sampler.Offer(3, N1, N2, "raft", "AppendEntries", MessageOutcome.Partitioned));
        Assert.False(sampler.Offer(4, N1, N2, "raft", "AppendEntries", MessageOutcome.Sent));
        Assert.Equal(4, sampler.Since(0).Count);
    }

    [Fact]
    public void The_ring_keeps_the_newest_capacity_samples_and_since_returns_only_newer_ones_in_order()
    {
        var sampler = new MessageSampler(capacity: 4, intervalMs: 0);
        for (var i = 0; i < 10; i++) sampler.Offer(i, N1, N2, "s", "K", MessageOutcome.Sent);
        Assert.Equal(10, sampler.LastSeq);
        Assert.Equal([7L, 8L, 9L, 10L], sampler.Since(0).Select(s => s.Seq));
        Assert.Equal([9L, 10L], sampler.Since(8).Select(s => s.Seq));
        Assert.Empty(sampler.Since(10));
    }
}

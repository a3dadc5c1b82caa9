using DistSysActors.Core;

namespace DistSysActors.Simulation.Tests;

public class SimStorageTests
{
    private readonly SimStorage _storage = new(new NodeId(1));

    [Fact]
    public void Values_are_read_back_or_fall_back()
    {
        Assert.Equal(0L, _storage.Get("term", 0L));
        _storage.Put("term", 5L);
        _storage.Put("votedFor", new NodeId(3));
        Assert.Equal(5L, _storage.Get("term", 0L));
        Assert.True(_storage.TryGet<NodeId>("votedFor", out var vote));
        Assert.Equal(new NodeId(3), vote);
        Assert.True(_storage.Remove("votedFor"));
        Assert.False(_storage.TryGet<NodeId>("votedFor", out _));
        Assert.Equal(3, _storage.WriteCount);
    }

    [Fact]
    public void A_log_keeps_positions_through_suffix_truncation_and_prefix_compaction()
    {
        var log = _storage.Log<string>("raft-log");
        log.AppendRange(["a", "b", "c", "d"]);
        log.TruncateFrom(2);
        log.Append("x");
        Assert.Equal(["a", "b", "x"], log.ReadAll());
        log.RemoveBefore(2);
        Assert.Equal(2, log.FirstIndex);
        Assert.Equal(3, log.NextIndex);
        Assert.Equal("x", log[2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => log[1]);
        Assert.Equal(["x"], log.ReadFrom(0));
        Assert.Empty(log.ReadFrom(3));
        Assert.Same(log, _storage.Log<string>("raft-log"));
    }

    [Fact]
    public void A_log_can_restart_empty_past_its_end()
    {
        var log = _storage.Log<string>("raft-log");
        log.AppendRange(["a", "b"]);
        log.RemoveBefore(1);
        log.Reset(10);
        Assert.Equal((10L, 10L, 0), (log.FirstIndex, log.NextIndex, log.Count));
        log.Append("k");
        Assert.Equal("k", log[10]);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Reset(9));
    }

    [Fact]
    public void A_log_is_opened_with_the_type_it_was_created_with()
    {
        _storage.Log<int>("numbers").Append(1);
        var e = Assert.Throws<InvalidOperationException>(() => _storage.Log<string>("numbers"));
        Assert.Contains("numbers", e.Message);
    }
}

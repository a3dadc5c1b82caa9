using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Raft;

namespace DistSysActors.Actors.Tests.Raft;

public sealed class RaftSettingsSpec
{
    private static Config With(string hocon) => ConfigurationFactory.ParseString(hocon).WithFallback(DistSysConfig.Reference);

    [Fact]
    public void Reference_config_yields_the_documented_snapshot_and_flow_control_defaults()
    {
        var s = RaftSettings.Create(DistSysConfig.Reference);
        Assert.Equal(
            (10_000, 65_536, 64, 1_048_576, 64, 10_000, true, 1),
            (s.SnapshotEntries, s.SnapshotChunkBytes, s.AppendEntriesMax, s.AppendBytesMax, s.InflightMessagesMax,
                s.UncommittedEntriesMax, s.AutoPromoteLearners, s.TransferTimeoutElections));
    }

    [Fact]
    public void Overrides_are_read()
    {
        var s = RaftSettings.Create(With("distsys.raft { snapshot-entries = 5, uncommitted-entries-max = 7, auto-promote-learners = off }"));
        Assert.Equal((5, 7, false), (s.SnapshotEntries, s.UncommittedEntriesMax, s.AutoPromoteLearners));
    }

    [Theory]
    [InlineData("distsys.raft.snapshot-entries = 0", "distsys.raft.snapshot-entries")]
    [InlineData("distsys.raft.snapshot-entries = many", "distsys.raft.snapshot-entries")]
    [InlineData("distsys.raft.snapshot-chunk-bytes = 10", "distsys.raft.snapshot-chunk-bytes")]
    [InlineData("distsys.raft.append-entries-max = 0", "distsys.raft.append-entries-max")]
    [InlineData("distsys.raft.append-bytes-max = -1", "distsys.raft.append-bytes-max")]
    [InlineData("distsys.raft.inflight-messages-max = 0", "distsys.raft.inflight-messages-max")]
    [InlineData("distsys.raft.inflight-bytes-max = 0", "distsys.raft.inflight-bytes-max")]
    [InlineData("distsys.raft.uncommitted-entries-max = 0", "distsys.raft.uncommitted-entries-max")]
    [InlineData("distsys.raft.auto-promote-learners = maybe", "distsys.raft.auto-promote-learners")]
    [InlineData("distsys.raft.transfer-timeout-elections = 0", "distsys.raft.transfer-timeout-elections")]
    public void A_bad_value_fails_fast_naming_its_key(string hocon, string key)
    {
        var error = Assert.Throws<ConfigurationException>(() => RaftSettings.Create(With(hocon)));
        Assert.Contains(key, error.Message);
    }
}

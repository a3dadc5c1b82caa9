using DistSysActors.Core.Network;

namespace DistSysActors.Core.Tests.Network;

public class FaultSpecTests
{
    private static NodeId N(int i) => new(i);

    [Fact]
    public void A_valid_spec_has_no_errors()
    {
        Assert.Empty(FaultSpec.None.Validate());
        Assert.Empty((FaultSpec.Partition([1, 2], [3]) with { DropRate = 1, DelayMinMs = 5, DelayMaxMs = FaultSpec.DelayMsMax, DuplicateRate = 0, Reorder = true }).Validate());
    }

    [Theory]
    [InlineData(1.5, 0, 0, 0, "dropRate")]
    [InlineData(-0.1, 0, 0, 0, "dropRate")]
    [InlineData(double.NaN, 0, 0, 0, "dropRate")]
    [InlineData(0, 2.0, 0, 0, "duplicateRate")]
    [InlineData(0, 0, -1, 5, "delayMs")]
    [InlineData(0, 0, 10, 5, "delayMs")]
    [InlineData(0, 0, 0, FaultSpec.DelayMsMax + 1, "delayMs")]
    public void Validate_names_the_bad_field(double dropRate, double duplicateRate, int delayMinMs, int delayMaxMs, string field)
    {
        var errors = new FaultSpec { DropRate = dropRate, DuplicateRate = duplicateRate, DelayMinMs = delayMinMs, DelayMaxMs = delayMaxMs }.Validate();
        Assert.Single(errors);
        Assert.Contains(field, errors[0]);
    }

    [Fact]
    public void Validate_rejects_bad_partition_groups()
    {
        Assert.Contains("partitions", Assert.Single(FaultSpec.Partition([1, 2], [2, 3]).Validate()));
        Assert.Contains("partitions", Assert.Single(FaultSpec.Partition([0]).Validate()));
        Assert.Contains("partitions", Assert.Single(FaultSpec.Partition([FaultSpec.NodeIdMax + 1]).Validate()));
        Assert.Contains("empty group", Assert.Single(FaultSpec.Partition([1], []).Validate()));
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var errors = (FaultSpec.Partition([1], [1]) with { DropRate = 3, DuplicateRate = -1 }).Validate();
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void No_partition_connects_everyone()
    {
        Assert.True(FaultSpec.None.Connected(N(1), N(2)));
        Assert.True(new FaultSpec { DropRate = 0.5 }.Connected(N(7), N(3)));
    }

    [Fact]
    public void Groups_connect_only_their_members_and_unlisted_nodes_form_one_group()
    {
        var spec = FaultSpec.Partition([1, 2], [3]);
        Assert.True(spec.Connected(N(1), N(2)));
        Assert.True(spec.Connected(N(2), N(1)));
        Assert.False(spec.Connected(N(1), N(3)));
        Assert.False(spec.Connected(N(3), N(2)));
        Assert.True(spec.Connected(N(4), N(5)));   // both unlisted: the implicit group
        Assert.False(spec.Connected(N(4), N(1)));
        Assert.False(spec.Connected(N(3), N(4)));
        Assert.True(spec.Connected(N(3), N(3)));
    }

    [Fact]
    public void Specs_compare_by_value_including_partitions()
    {
        Assert.Equal(FaultSpec.Partition([1, 2], [3]), FaultSpec.Partition([1, 2], [3]));
        Assert.NotEqual(FaultSpec.Partition([1, 2], [3]), FaultSpec.Partition([1], [2, 3]));
        Assert.True(FaultSpec.None.IsNone);
        Assert.False(FaultSpec.Partition([1]).IsNone);
        Assert.False(new FaultSpec { Reorder = true }.IsNone);
    }
}

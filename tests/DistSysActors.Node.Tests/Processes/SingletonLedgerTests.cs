namespace DistSysActors.Node.Tests.Processes;

/// <summary>The ledger check the singleton scenarios rely on: overlap is a line of an instance after another's began.</summary>
public sealed class SingletonLedgerTests
{
    [Fact]
    public void A_hand_over_is_no_overlap_and_an_old_instance_writing_after_the_new_one_began_is()
    {
        string[] handOver = ["a", "a", "b", "b"], twoAtOnce = ["a", "b", "a", "b"];
        Assert.False(SingletonLedger.Overlap(handOver, "a", "b"));
        Assert.False(SingletonLedger.AnyOverlap(handOver));
        Assert.True(SingletonLedger.Overlap(twoAtOnce, "a", "b"));
        Assert.True(SingletonLedger.AnyOverlap(twoAtOnce));
        Assert.False(SingletonLedger.AnyOverlap(twoAtOnce, from: 2)); // only lines from the start index on count
        Assert.True(SingletonLedger.AnyOverlap(["a", "b", "c", "b"]));
    }
}

namespace DistSysActors.Simulation.Tests;

public class SeedRunnerTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Seeds_come_from_the_default_count_and_environment()
    {
        Assert.Equal([1L, 2, 3], SeedRunner.Seeds(3, Env()));
        Assert.Equal([10L, 11], SeedRunner.Seeds(3, Env(("DISTSYS_SEEDS", "2"), ("DISTSYS_SEED_BASE", "10"))));
        Assert.Equal([77L], SeedRunner.Seeds(3, Env(("DISTSYS_SEED", "77"), ("DISTSYS_SEEDS", "50"))));
        Assert.Contains("DISTSYS_SEEDS", Assert.Throws<ArgumentException>(() => SeedRunner.Seeds(3, Env(("DISTSYS_SEEDS", "x")))).Message);
    }

    [Fact]
    public void Fresh_seeds_are_added_to_the_fixed_ones_and_a_single_replay_seed_overrides_both()
    {
        Assert.Equal([1L, 2, 3, 9000, 9001, 9002], SeedRunner.Seeds(3, Env(("DISTSYS_FRESH_SEED_BASE", "9000"))));
        Assert.Equal([1L, 2, 3, 4], SeedRunner.Seeds(3, Env(("DISTSYS_FRESH_SEED_BASE", "3"), ("DISTSYS_FRESH_SEEDS", "2"))));
        Assert.Equal([5L], SeedRunner.Seeds(3, Env(("DISTSYS_FRESH_SEED_BASE", "9000"), ("DISTSYS_SEED", "5"))));
        Assert.Contains("DISTSYS_FRESH_SEEDS", Assert.Throws<ArgumentException>(() =>
            SeedRunner.Seeds(3, Env(("DISTSYS_FRESH_SEED_BASE", "1"), ("DISTSYS_FRESH_SEEDS", "-1")))).Message);
    }

    [Fact]
    public void A_failing_seed_is_named_with_its_replay_command()
    {
        var ran = new List<long>();
        var e = Assert.Throws<SeedFailedException>(() => SeedRunner.Run(10, seed =>
        {
            ran.Add(seed);
            Assert.NotEqual(4, seed);
        }, "MyScenario", Env(("DISTSYS_SEED_BASE", "2"))));
        Assert.Equal([2L, 3, 4], ran);
        Assert.Equal(4, e.Seed);
        Assert.StartsWith("seed=4 ", e.Message);
        Assert.Contains("DISTSYS_SEED=4", e.Message);
        Assert.Contains("MyScenario", e.Message);
    }
}

using DistSysActors.Node.Commands;
using DistSysActors.Node.Tests.Processes;

namespace DistSysActors.Node.Tests.Cli;

public class CommandLineTests
{
    private static Task<(int Code, string Out)> RunAsync(params string[] args) => ProcessCluster.RunCliAsync(args);

    [Theory]
    [InlineData("--id must be between 1 and --nodes", "node", "--id", "5", "--nodes", "3")]
    [InlineData("--nodes must be between 1 and 9", "local", "--nodes", "12")]
    [InlineData("--ready-timeout must be between 1 and 3600", "local", "--ready-timeout", "0")]
    [InlineData("unknown configuration key 'distsys.node.colour'", "node", "--id", "1", "--set", "distsys.node.colour=blue")]
    [InlineData("distsys.ping.interval-ms", "node", "--id", "1", "--set", "distsys.ping.interval-ms=fast")]
    [InlineData("at least two groups", "fault", "partition", "1,2,3")]
    [InlineData("delay expects a range", "fault", "delay", "50-5")]
    [InlineData("Option '--id' is required", "node")]
    public async Task Invalid_arguments_exit_non_zero_with_a_clear_message(string expected, params string[] args)
    {
        var (code, text) = await RunAsync(args);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, text);
    }

    [Theory]
    [InlineData("node")]
    [InlineData("local")]
    [InlineData("status")]
    [InlineData("clock")]
    [InlineData("fault")]
    public async Task Every_command_has_help(string command)
    {
        var (code, text) = await RunAsync(command, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Usage:", text);
    }

    [Fact]
    public void Partition_syntax_is_groups_separated_by_slashes()
    {
        var groups = FaultCommand.ParsePartition("1,2/3");
        Assert.Equal([[1, 2], [3]], groups.Select(g => g.Select(n => n.Value).ToArray()).ToArray());
        Assert.Throws<CommandException>(() => FaultCommand.ParsePartition("1,x/3"));
    }
}

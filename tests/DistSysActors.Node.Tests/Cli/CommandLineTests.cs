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
    [InlineData("--session and --consistency cannot be combined", "kv", "get", "k", "--session", "--consistency", "stale")]
    [InlineData("--interval-ms must be between 100 and 60000", "replicas", "--interval-ms", "5")]
    public async Task Invalid_arguments_exit_non_zero_with_a_clear_message(string expected, params string[] args)
    {
        var (code, text) = await RunAsync(args);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, text);
    }

    /// <summary>
    /// A bad value in any settings section the node reads fails before anything starts: one line on standard error that
    /// names the key and the value, exit 1, and no actor system (Akka prints "Remoting started" once remoting listens).
    /// </summary>
    [Theory]
    [InlineData("distsys.raft.tick-ms=abc", "distsys.raft.tick-ms", "abc")]
    [InlineData("distsys.raft.heartbeat-ticks=50", "distsys.raft.heartbeat-ticks", "50")]
    [InlineData("distsys.idempotency.ttl-ms=soon", "distsys.idempotency.ttl-ms", "soon")]
    [InlineData("distsys.failure-detector.threshold=high", "distsys.failure-detector.threshold", "high")]
    [InlineData("distsys.failure-detector.enabled=maybe", "distsys.failure-detector.enabled", "maybe")]
    [InlineData("distsys.clock.poll-interval-ms=-5", "distsys.clock.poll-interval-ms", "-5")]
    [InlineData("distsys.clock.reference-node-id=7", "distsys.clock.reference-node-id", "7")]
    [InlineData("distsys.delivery.outbox-max=0", "distsys.delivery.outbox-max", "0")]
    public async Task A_bad_setting_in_any_section_fails_before_anything_starts_naming_the_key_and_the_value(string set, string key, string value)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "distsys-tests", Guid.NewGuid().ToString("N"));
        int code;
        string stdout, stderr;
        try
        {
            (code, stdout, stderr) = await ProcessCluster.RunCliStreamsAsync(["node", "--id", "1", "--nodes", "3",
                "--base-port", $"{ProcessCluster.FreePortBase(3)}", "--http-base-port", $"{ProcessCluster.FreePortBase(3)}", "--data-dir", dataDir, "--set", set]);
        }
        finally
        {
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }
        Assert.Equal(1, code);
        var first = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        Assert.StartsWith("distsys: ", first);
        Assert.Contains(key, first);
        Assert.Contains(value, first);
        Assert.DoesNotContain("Remoting", stdout + stderr);
        Assert.Equal("", stdout);
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

using System.CommandLine;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Commands.Nemesis;
using DistSysActors.Node.Tests.Processes;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>`distsys bench nemesis` rejects bad options before starting anything; its nemesis replays from a seed.</summary>
public class BenchNemesisCommandTests
{
    private static IReadOnlyList<string> Errors(params string[] args) =>
        new RootCommand { BenchCommand.Create() }.Parse(["bench", "nemesis", .. args]).Errors.Select(e => e.Message).ToList();

    [Theory]
    [InlineData("--nodes must be at least 3 for a nemesis", "--nodes", "2")]
    [InlineData("--nodes must be between 1 and 9, was 10", "--nodes", "10")]
    [InlineData("--clients must be between 1 and 256, was 0", "--clients", "0")]
    [InlineData("--keys must be between 1 and 1000, was 0", "--keys", "0")]
    [InlineData("--seconds must be between 1 and 3600, was 0", "--seconds", "0")]
    [InlineData("--read-ratio must be between 0.0 and 1.0, was 1.5", "--read-ratio", "1.5")]
    [InlineData("--request-timeout-ms must be between 100 and 600000, was 50", "--request-timeout-ms", "50")]
    [InlineData("--write-retries must be between 0 and 10, was 11", "--write-retries", "11")]
    [InlineData("--interval-min-ms must be between 100 and 600000, was 0", "--interval-min-ms", "0")]
    [InlineData("--interval-min-ms (5000) must not exceed --interval-max-ms (4000)", "--interval-min-ms", "5000", "--interval-max-ms", "4000")]
    [InlineData("--interval-min-ms (7000) must not exceed --interval-max-ms (6000)", "--interval-min-ms", "7000")]
    [InlineData("--faults takes kill, partition or kill,partition; 'drop' is neither", "--faults", "kill,drop")]
    [InlineData("--faults needs at least one of kill, partition", "--faults", ",")]
    [InlineData("--http-base-port must be between 1 and 65000", "--http-base-port", "70000")]
    [InlineData("Cannot parse argument 'x' for option '--seed'", "--seed", "x")]
    public void Invalid_options_are_rejected_with_a_clear_message(string expected, params string[] args) =>
        Assert.Contains(Errors(args), e => e.Contains(expected, StringComparison.Ordinal));

    [Theory]
    [InlineData]
    [InlineData("--nodes", "3", "--clients", "1", "--keys", "1", "--seconds", "1", "--read-ratio", "0", "--seed", "42")]
    [InlineData("--faults", "partition", "--interval-min-ms", "500", "--interval-max-ms", "500", "--write-retries", "0", "--keep-data")]
    [InlineData("--faults", " kill , partition ", "--data-dir", "/tmp/x", "--set", "distsys.raft.tick-ms=20")]
    public void Valid_options_parse(params string[] args) => Assert.Empty(Errors(args));

    [Fact]
    public void Faults_parse_into_flags()
    {
        Assert.Equal(NemesisFaults.Kill, BenchNemesisCommand.ParseFaults("kill", out _));
        Assert.Equal(NemesisFaults.All, BenchNemesisCommand.ParseFaults("partition,kill", out _));
        Assert.Null(BenchNemesisCommand.ParseFaults("", out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public async Task The_executable_exits_non_zero_on_a_bad_option_before_starting_any_node()
    {
        var (code, text) = await ProcessCluster.RunCliAsync(["bench", "nemesis", "--nodes", "2"]);
        Assert.NotEqual(0, code);
        Assert.Contains("--nodes must be at least 3", text);
        Assert.DoesNotContain("nodes ready", text);
    }

    [Fact]
    public async Task A_data_directory_that_is_not_empty_is_refused_and_left_alone()
    {
        var dir = Directory.CreateTempSubdirectory("distsys-nemesis-test-").FullName;
        var marker = Path.Combine(dir, "keep-me");
        await File.WriteAllTextAsync(marker, "x");
        try
        {
            var (code, text) = await ProcessCluster.RunCliAsync(["bench", "nemesis", "--data-dir", dir]);
            Assert.Equal(1, code);
            Assert.Contains("is not empty: the nemesis needs a fresh cluster", text);
            Assert.Equal(["keep-me"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

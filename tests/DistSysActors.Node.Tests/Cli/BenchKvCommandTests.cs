using System.CommandLine;
using System.Diagnostics;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Tests.Processes;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>`distsys bench kv` rejects bad options before starting anything, and summarizes what its clients measured.</summary>
public class BenchKvCommandTests
{
    private static IReadOnlyList<string> Errors(params string[] args) =>
        new RootCommand { BenchCommand.Create() }.Parse(["bench", "kv", .. args]).Errors.Select(e => e.Message).ToList();

    [Theory]
    [InlineData("--clients must be between 1 and 1024, was 0", "--clients", "0")]
    [InlineData("--clients must be between 1 and 1024, was 5000", "--clients", "5000")]
    [InlineData("--seconds must be between 1 and 3600, was 0", "--seconds", "0")]
    [InlineData("--warmup-seconds must be between 0 and 600, was -1", "--warmup-seconds", "-1")]
    [InlineData("--value-bytes must be between 1 and 65536, was 70000", "--value-bytes", "70000")]
    [InlineData("--keys must be between 1 and 10000000, was 0", "--keys", "0")]
    [InlineData("--read-ratio must be between 0.0 and 1.0, was 1.5", "--read-ratio", "1.5")]
    [InlineData("--read-ratio must be between 0.0 and 1.0, was -0.1", "--read-ratio", "-0.1")]
    [InlineData("--nodes must be between 1 and 9, was 10", "--nodes", "10")]
    [InlineData("--http-base-port must be between 1 and 65000", "--http-base-port", "70000")]
    [InlineData("'fast'", "--consistency", "fast")]
    [InlineData("--endpoints expects base URLs such as http://127.0.0.1:8081, got 'localhost:8081'", "--endpoints", "localhost:8081")]
    [InlineData("got 'http://127.0.0.1:8081/kv'", "--endpoints", "http://127.0.0.1:8081,http://127.0.0.1:8081/kv")]
    [InlineData("--endpoints needs at least one URL", "--endpoints", ",")]
    [InlineData("--nodes applies to the local cluster", "--endpoints", "http://127.0.0.1:8081", "--nodes", "3")]
    [InlineData("--base-port applies to the local cluster", "--endpoints", "http://127.0.0.1:8081", "--base-port", "4050")]
    [InlineData("--verify needs --value-bytes of at least 20", "--verify", "--value-bytes", "19")]
    public void Invalid_options_are_rejected_with_a_clear_message(string expected, params string[] args) =>
        Assert.Contains(Errors(args), e => e.Contains(expected, StringComparison.Ordinal));

    [Theory]
    [InlineData]
    [InlineData("--clients", "1", "--seconds", "1", "--warmup-seconds", "0", "--read-ratio", "1", "--consistency", "lease")]
    [InlineData("--endpoints", "http://127.0.0.1:8081, http://127.0.0.1:8082", "--read-ratio", "0.5", "--value-bytes", "65536")]
    [InlineData("--verify", "--value-bytes", "20")]
    public void Valid_options_parse(params string[] args) => Assert.Empty(Errors(args));

    [Fact]
    public void Endpoints_parse_into_base_urls()
    {
        var endpoints = BenchKvCommand.ParseEndpoints(" http://127.0.0.1:8081,http://127.0.0.1:8082/ ", out var error);
        Assert.Null(error);
        Assert.Equal(["http://127.0.0.1:8081/", "http://127.0.0.1:8082/"], endpoints!.Select(u => u.ToString()));
    }

    [Fact]
    public async Task The_executable_exits_non_zero_on_a_bad_option()
    {
        var (code, text) = await ProcessCluster.RunCliAsync(["bench", "kv", "--read-ratio", "2"]);
        Assert.NotEqual(0, code);
        Assert.Contains("--read-ratio must be between 0.0 and 1.0", text);
    }

    [Fact]
    public void Latency_samples_stay_bounded_and_keep_the_exact_count_and_maximum()
    {
        var samples = new BenchKvCommand.LatencySamples(samplesMax: 100, seed: 1);
        for (var i = 1; i <= 10_000; i++) samples.Add(i);
        Assert.Equal(100, samples.Samples.Count);
        Assert.Equal(10_000, samples.Count);
        Assert.Equal(10_000, samples.MaxTicks);
        // A uniform sample of 1..10000: its median is far from the first hundred values kept initially.
        Assert.InRange(samples.Samples.Order().ElementAt(50), 2_000, 8_000);
    }

    [Fact]
    public void Errors_are_counted_by_status_and_the_apis_reason()
    {
        Assert.Equal("http 503 (the read was not confirmed in time)",
            BenchKvCommand.ClientLoop.ErrorKind(503, """{"error":"the read was not confirmed in time","outcome":"unknown"}"""));
        Assert.Equal("http 502", BenchKvCommand.ClientLoop.ErrorKind(502, "<html>bad gateway</html>"));
        Assert.Equal("http 500", BenchKvCommand.ClientLoop.ErrorKind(500, "[1]"));
    }

    [Fact]
    public void The_summary_reports_rates_percentiles_and_errors_by_kind()
    {
        var ms = Stopwatch.Frequency / 1000;
        var writes = Enumerable.Range(1, 1000).Select(i => i * ms).ToArray();
        var result = new BenchKvCommand.BenchResult(10, 1000, 0, writes, writes, writes[^1], [], 0,
            new Dictionary<string, long> { ["timeout"] = 2, ["http 503"] = 5 });
        var text = result.Format();
        Assert.Contains("100 ops/s (100 writes/s, 0 reads/s; 1000 ops in 10 s)", text);
        Assert.Contains("p50 500.00  p99 990.00  p99.9 999.00  max 1000.00", text);
        Assert.Contains("errors: http 503: 5, timeout: 2", text);
    }
}

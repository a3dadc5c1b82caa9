using System.Text;
using System.Text.Json;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Basic Paxos write-once registers over HTTP on three real nodes: the first value chosen stays chosen whoever proposes
/// next, and a node that was down while a value was chosen answers it once it is back (catch-up or a read round), never 404.
/// </summary>
public sealed class PaxosRegisterProcessTests
{
    private static async Task<(int Code, JsonElement Body)> SendAsync(ProcessCluster cluster, int node, HttpMethod method, string path, string? value = null)
    {
        using var client = cluster.Client(node);
        var (code, body) = await client.SendAsync(method, path, value is null ? null : new StringContent(value, Encoding.UTF8));
        return (code, JsonDocument.Parse(body).RootElement.Clone());
    }

    [Fact]
    public async Task A_chosen_value_stays_chosen_and_a_node_that_was_down_answers_it_after_restart()
    {
        using var cluster = new ProcessCluster(3);
        cluster.StartAll();
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "all three nodes are ready");

        var (code, first) = await SendAsync(cluster, 1, HttpMethod.Put, "/paxos/color", "red");
        Assert.Equal(200, code);
        Assert.Equal("red", first.GetProperty("chosen").GetString());
        Assert.Matches(@"^\d+\.\d+$", first.GetProperty("ballot").GetString());

        // Another proposer, on another node, learns that red is chosen: a register is written once.
        var (code2, second) = await SendAsync(cluster, 3, HttpMethod.Put, "/paxos/color", "blue");
        Assert.Equal(200, code2);
        Assert.Equal("red", second.GetProperty("chosen").GetString());
        var (getCode, got) = await SendAsync(cluster, 2, HttpMethod.Get, "/paxos/color");
        Assert.Equal(200, getCode);
        Assert.Equal("red", got.GetProperty("chosen").GetString());
        Assert.Equal(["ballot", "chosen"], got.EnumerateObject().Select(p => p.Name).Order().ToArray());
        Assert.Equal(404, (await SendAsync(cluster, 2, HttpMethod.Get, "/paxos/never-proposed")).Code);

        // Node 2 is down while a value is chosen by the other two.
        cluster.Kill(2);
        var (lateCode, late) = await SendAsync(cluster, 1, HttpMethod.Put, "/paxos/late", "v1");
        Assert.Equal(200, lateCode);
        Assert.Equal("v1", late.GetProperty("chosen").GetString());
        cluster.Start(2);
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "node 2 is back and every node ready");
        var (backCode, back) = await SendAsync(cluster, 2, HttpMethod.Get, "/paxos/late");
        Assert.Equal(200, backCode);
        Assert.Equal("v1", back.GetProperty("chosen").GetString());

        // The CLI over the same registers: propose, read (exit 2 when nothing is chosen), and a duel of two proposers
        // that ends with one value chosen, read alike on the third node.
        var (cliCode, cliOut) = await cluster.CliAsync("paxos", "propose", "cli-reg", "first", "--node", "1");
        Assert.True(cliCode == 0, cliOut);
        Assert.Contains("node 1: chosen 'first' at ballot", cliOut);
        (cliCode, cliOut) = await cluster.CliAsync("paxos", "propose", "cli-reg", "second", "--node", "3");
        Assert.True(cliCode == 0, cliOut);
        Assert.Contains("node 3: chosen 'first'", cliOut);
        (cliCode, cliOut) = await cluster.CliAsync("paxos", "get", "cli-never", "--node", "2");
        Assert.True(cliCode == 2, cliOut);
        Assert.Contains("nothing chosen", cliOut);
        (cliCode, cliOut) = await cluster.CliAsync("paxos", "duel", "cli-duel", "--between", "1", "2");
        Assert.True(cliCode == 0, cliOut);
        var winner = System.Text.RegularExpressions.Regex.Match(cliOut, "one value chosen: '(from-node-[12])'");
        Assert.True(winner.Success, cliOut);
        var (duelCode, duelRead) = await SendAsync(cluster, 3, HttpMethod.Get, "/paxos/cli-duel");
        Assert.Equal(200, duelCode);
        Assert.Equal(winner.Groups[1].Value, duelRead.GetProperty("chosen").GetString());
        (cliCode, cliOut) = await cluster.CliAsync("paxos", "duel", "cli-duel", "--between", "2", "2");
        Assert.NotEqual(0, cliCode);
        Assert.Contains("--between needs two different nodes", cliOut);
    }
}

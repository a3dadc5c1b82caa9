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
    }
}

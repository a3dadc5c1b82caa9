using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>`distsys raft transfer` and POST /admin/raft/transfer on real nodes.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed partial class RaftTransferProcessTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private ProcessCluster Cluster => fixture.Cluster;

    private async Task<(int Code, string Out)> CliAsync(params string[] args)
    {
        var result = await Cluster.CliAsync(args);
        output.WriteLine($"$ distsys {string.Join(' ', args)}  (exit {result.Code})\n{result.Out}");
        return result;
    }

    [GeneratedRegex(@"^node (\d+) leads now \(term (\d+)\)$")]
    private static partial Regex LeadsNow();

    private static (int Leader, long Term) Parse(string cliOutput)
    {
        var match = LeadsNow().Match(cliOutput.Trim());
        Assert.True(match.Success, $"expected `node I leads now (term T)`, got: {cliOutput}");
        return (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Every node's /status names <paramref name="leader"/> as leader in <paramref name="term"/> (or later: on a loaded
    /// machine a missed heartbeat round may make it win an election again), and that node says it leads.
    /// </summary>
    private Task AwaitEveryoneSeesAsync(int leader, long term) => Cluster.AwaitAsync(async () =>
    {
        for (var i = 1; i <= 3; i++)
        {
            using var c = Cluster.Client(i);
            var raft = (await c.StatusAsync()).Raft!;
            if (raft.LeaderId != leader || raft.Term < term || (i == leader) != (raft.Role == "Leader")) return false;
        }
        return true;
    }, TimeSpan.FromSeconds(10), $"every node's /status shows node {leader} leading in term {term} or later");

    private async Task<(int Code, string Body)> TransferAsync(int node, string body)
    {
        using var c = Cluster.Client(node);
        var answer = await c.SendAsync(HttpMethod.Post, "/admin/raft/transfer", new StringContent(body, Encoding.UTF8, "application/json"));
        output.WriteLine($"node {node} POST /admin/raft/transfer {body}: {answer.Code} {answer.Body}");
        return answer;
    }

    [Fact]
    public async Task Raft_transfer_hands_leadership_to_the_chosen_or_most_up_to_date_voter_and_answers_409_for_a_non_voter_or_the_leader()
    {
        await fixture.EnsureRunningAsync();
        var leader = await Cluster.LeaderAsync();
        long term;
        using (var c = Cluster.Client(leader)) term = (await c.StatusAsync()).Raft!.Term;
        var target = Enumerable.Range(1, 3).First(i => i != leader);
        var third = 6 - leader - target;

        // Asked of the third node, which passes it on to the leader.
        var (code, text) = await CliAsync("raft", "transfer", "--to", $"{target}", "--node", $"{third}");
        Assert.Equal(0, code);
        var (now, newTerm) = Parse(text);
        Assert.Equal(target, now);
        Assert.True(newTerm > term, $"the transfer is an election: term {newTerm} after {term}");
        await AwaitEveryoneSeesAsync(target, newTerm);

        // Without --to: the most up-to-date voter other than the leader (asked of the leader itself).
        (code, text) = await CliAsync("raft", "transfer", "--node", $"{target}");
        Assert.Equal(0, code);
        var (next, nextTerm) = Parse(text);
        Assert.NotEqual(target, next);
        Assert.True(nextTerm > newTerm);
        await AwaitEveryoneSeesAsync(next, nextTerm);

        // 409: node 9 is in the port plan but not a voter; the leader cannot hand leadership to itself.
        (code, text) = await CliAsync("raft", "transfer", "--to", "9");
        Assert.Equal((1, "distsys: HTTP 409: node 9 is not a voter"), (code, text.Trim()));
        var follower = Enumerable.Range(1, 3).First(i => i != next);
        Assert.Equal(409, (await TransferAsync(follower, """{"to": 9}""")).Code);
        var (selfCode, selfBody) = await TransferAsync(follower, $$"""{"to": {{next}}}""");
        Assert.Equal(409, selfCode);
        Assert.Contains("already the leader", selfBody);
        // Outside the port plan or not a number: 400.
        Assert.Equal(400, (await TransferAsync(next, """{"to": 100}""")).Code);
        Assert.Equal(400, (await TransferAsync(next, """{"to": "two"}""")).Code);
        await AwaitEveryoneSeesAsync(next, nextTerm);
    }
}

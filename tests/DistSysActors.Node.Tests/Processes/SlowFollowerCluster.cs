using System.Text;
using System.Text.Json;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Three real nodes where node 3 applies committed entries <see cref="ApplyDelayMs"/> late (distsys.raft.apply-delay-ms,
/// a delayed replica) and node 1 leads, started once for every test of the class that uses it.
/// </summary>
public sealed class SlowFollowerCluster : IDisposable
{
    public const int ApplyDelayMs = 300;
    public const int Leader = 1, FastFollower = 2, SlowFollower = 3;
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);

    public ProcessCluster Cluster { get; } = new(3);
    private bool _started;

    /// <summary>Starts the cluster the first time; every time, heals faults, awaits readiness and makes node 1 the leader.</summary>
    public async Task EnsureRunningAsync()
    {
        if (!_started)
        {
            Cluster.Start(1);
            Cluster.Start(2);
            Cluster.Start(3, "--set", $"distsys.raft.apply-delay-ms={ApplyDelayMs}");
            _started = true;
        }
        // Up first (a loaded machine starts a node slowly), then no faults, then ready.
        await Cluster.AwaitAsync(async () =>
        {
            for (var i = 1; i <= 3; i++)
            {
                using var c = Cluster.Client(i);
                if ((await c.SendAsync(HttpMethod.Get, "/health/live")).Code != 200) return false;
            }
            return true;
        }, Ready, "every node answers /health/live with 200");
        await Cluster.HealAllAsync();
        await Cluster.AwaitAsync(Cluster.AllReadyAsync, Ready, "every node answers /health/ready with 200");
        await Cluster.AwaitAsync(async () =>
        {
            var leader = await Cluster.LeaderAsync();
            if (leader == Leader) return await EveryoneFollowsAsync();
            using var c = Cluster.Client(leader);
            await c.SendAsync(HttpMethod.Post, "/admin/raft/transfer", new StringContent("""{"to": 1}""", Encoding.UTF8, "application/json"));
            return false;
        }, TimeSpan.FromSeconds(60), "node 1 leads and every node follows it");
    }

    private async Task<bool> EveryoneFollowsAsync()
    {
        for (var i = 1; i <= 3; i++)
        {
            using var c = Cluster.Client(i);
            if ((await c.StatusAsync()).Raft?.LeaderId != Leader) return false;
        }
        return true;
    }

    /// <summary>
    /// Writes <c>{key}</c> = 1, 2, 3, ... through the leader, one at a time, until <paramref name="stop"/>; with
    /// <paramref name="prefixKeys"/>, also x = i then y = i after each, so y = i is in the log after x = i.
    /// </summary>
    public async Task WriteCounterAsync(string key, CancellationToken stop, bool prefixKeys = false)
    {
        using var client = Cluster.Client(Leader);
        for (var i = 1; !stop.IsCancellationRequested; i++)
        {
            try
            {
                await client.SendAsync(HttpMethod.Put, $"/kv/{key}", new StringContent($"{i}"), stop);
                if (!prefixKeys) continue;
                await client.SendAsync(HttpMethod.Put, $"/kv/{key}-x", new StringContent($"{i}"), stop);
                await client.SendAsync(HttpMethod.Put, $"/kv/{key}-y", new StringContent($"{i}"), stop);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { }
        }
    }

    /// <summary>The index a write answered (200 {"index": n}).</summary>
    public static long IndexOf(string body) => JsonDocument.Parse(body).RootElement.GetProperty("index").GetInt64();

    public void Dispose() => Cluster.Dispose();
}

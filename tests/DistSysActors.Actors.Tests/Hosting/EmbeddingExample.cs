// The README's embedding example, compiled here and run by EmbeddingSpec; a test checks that the README shows
// exactly the lines between the markers.
// README:begin
using Akka.Actor;
using Akka.Hosting;
using Akka.Remote.Hosting;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.Raft;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DistSysActors.Actors.Tests.Hosting;

public static class EmbeddedNode
{
    /// <summary>Node <paramref name="nodeId"/> of the cluster in <paramref name="peers"/>, inside an application's host.</summary>
    public static IHost Build(int nodeId, IReadOnlyDictionary<int, (string Host, int Port)> peers, string dataDir)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("app", akka => akka
            .WithRemoting(peers[nodeId].Host, peers[nodeId].Port)  // every node: the same system name, its own address
            .WithDistSysNode(o =>
            {
                o.NodeId = nodeId;
                foreach (var (id, (host, port)) in peers) o.Peers[id] = $"akka.tcp://app@{host}:{port}";
                o.SqliteDatabase = Path.Combine(dataDir, $"node-{nodeId}", "distsys.db");  // durable Raft state
            }));
        return builder.Build();
    }

    /// <summary>Writes a key through Raft and reads it back linearizably.</summary>
    public static async Task<string?> GreetAsync(IHost node)
    {
        var raft = await node.Services.GetRequiredService<ActorRegistry>().GetAsync<DistSysRaftKey>();
        object written;
        var attempts = 0;
        do
        {
            await raft.WhenReadyAsync(TimeSpan.FromSeconds(30));  // recovered from its journal, and a leader is known
            // Longer than the node's own request timeout (distsys.http.request-timeout-ms, 5 s), so its answer arrives.
            written = await raft.Ask<object>(new KvProtocol.Put("greeting", "hello"), TimeSpan.FromSeconds(10));
        } while (written is KvProtocol.Unavailable && ++attempts < 5);  // e.g. the leader changed; this Put may be repeated
        if (written is not KvProtocol.WriteResult) throw new InvalidOperationException($"not written: {written}");
        var read = await raft.Ask<object>(new KvProtocol.Get("greeting", KvProtocol.Consistency.Linearizable), TimeSpan.FromSeconds(10));
        return (read as KvProtocol.ReadResult)?.Value;
    }

    /// <summary>A whole program: <c>await EmbeddedNode.RunAsync(int.Parse(args[0]), peers, "data");</c> on each machine.</summary>
    public static async Task RunAsync(int nodeId, IReadOnlyDictionary<int, (string Host, int Port)> peers, string dataDir)
    {
        using var node = Build(nodeId, peers, dataDir);
        await node.StartAsync();
        Console.WriteLine($"greeting = {await GreetAsync(node)}");
        await node.WaitForShutdownAsync();  // Ctrl+C or SIGTERM
    }
}
// README:end

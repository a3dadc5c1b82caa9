using Akka.Actor;
using Akka.Hosting;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Raft;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DistSysActors.Actors.Tests.Hosting;

/// <summary>Embedding a node in another application through Akka.Hosting, as the README shows.</summary>
public class HostingSpec
{
    [Fact]
    public async Task An_embedded_single_node_serves_the_replicated_store_through_the_actor_registry()
    {
        using var host = Host.CreateDefaultBuilder()
            .ConfigureServices(services => services.AddAkka("embedded", akka => akka
                .WithDistSysNode(o => { o.NodeId = 1; o.RaftTickMs = 10; })))
            .Build();
        await host.StartAsync();
        try
        {
            var raft = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<DistSysRaftKey>();
            var system = host.Services.GetRequiredService<ActorSystem>();
            Assert.Equal(1, system.Settings.Config.GetInt("distsys.node.id"));
            Assert.Equal(10, system.Settings.Config.GetInt("distsys.raft.tick-ms"));

            // A single voter elects itself; until then the store answers "not applied".
            RaftProtocol.WriteResult? written = null;
            for (var attempt = 0; attempt < 100 && written is null; attempt++)
            {
                var answer = await raft.Ask<object>(new RaftProtocol.Put("greeting", "hello"), TimeSpan.FromSeconds(5));
                written = answer as RaftProtocol.WriteResult;
                if (written is null) Assert.IsType<RaftProtocol.Unavailable>(answer);
                if (written is null) await Task.Delay(50);
            }
            Assert.NotNull(written);
            var read = await raft.Ask<RaftProtocol.ReadResult>(new RaftProtocol.Get("greeting", RaftProtocol.Consistency.Linearizable), TimeSpan.FromSeconds(5));
            Assert.Equal("hello", read.Value);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void Options_become_hocon()
    {
        var options = new DistSysNodeOptions { NodeId = 2, RaftElectionTicks = 7, RaftEnabled = false };
        options.Peers[1] = "akka.tcp://app@127.0.0.1:1";
        options.Peers[2] = "akka.tcp://app@127.0.0.1:2";
        var hocon = options.ToHocon();
        Assert.Equal(2, hocon.GetInt("distsys.node.id"));
        Assert.Equal(2, hocon.GetInt("distsys.node.nodes"));
        Assert.Equal(7, hocon.GetInt("distsys.raft.election-ticks"));
        Assert.False(hocon.GetBoolean("distsys.raft.enabled"));
    }
}

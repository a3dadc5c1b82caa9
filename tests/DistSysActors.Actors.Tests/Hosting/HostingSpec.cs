using Akka.Actor;
using Akka.Hosting;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.KeyValue;
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
            KvProtocol.WriteResult? written = null;
            for (var attempt = 0; attempt < 100 && written is null; attempt++)
            {
                var answer = await raft.Ask<object>(new KvProtocol.Put("greeting", "hello"), TimeSpan.FromSeconds(5));
                written = answer as KvProtocol.WriteResult;
                if (written is null) Assert.IsType<KvProtocol.Unavailable>(answer);
                if (written is null) await Task.Delay(50);
            }
            Assert.NotNull(written);
            var read = await raft.Ask<KvProtocol.ReadResult>(new KvProtocol.Get("greeting", KvProtocol.Consistency.Linearizable), TimeSpan.FromSeconds(5));
            Assert.Equal("hello", read.Value);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private sealed class OrdersKey;

    [Fact]
    public async Task Per_module_extensions_start_just_the_chosen_modules_under_user_distsys_each_in_the_registry()
    {
        using var host = Host.CreateDefaultBuilder()
            .ConfigureServices(services => services.AddAkka("modular", akka => akka
                .WithDistSysNetwork(o => o.NodeId = 1)
                .WithDistSysRaft(o => o.TickMs = 10)
                .WithDistSysPing()
                .WithDistSysDelivery<OrdersKey>("orders", () => new ReliableDelivery.KeyCountHandler())))
            .Build();
        await host.StartAsync();
        try
        {
            var registry = host.Services.GetRequiredService<ActorRegistry>();
            var expected = new (Type Key, string Path)[]
            {
                (typeof(DistSysGuardianKey), "/user/distsys"),
                (typeof(DistSysNetworkKey), "/user/distsys/network"),
                (typeof(DistSysIncarnationKey), "/user/distsys/incarnation"),
                (typeof(DistSysRaftKey), "/user/distsys/raft"),
                (typeof(DistSysPingKey), "/user/distsys/ping"),
                (typeof(OrdersKey), "/user/distsys/delivery-orders-sender"),
                (typeof(DeliveryReceiverKey<OrdersKey>), "/user/distsys/delivery-orders-receiver"),
            };
            foreach (var (key, path) in expected)
            {
                Assert.True(registry.TryGet(key, out var actor), $"{key.Name} is not in the registry");
                Assert.Equal(path, actor.Path.ToStringWithoutAddress());
            }
            // Not asked for, so not started.
            Assert.False(registry.TryGet<DistSysFailureDetectorKey>(out _));
            Assert.False(registry.TryGet<DistSysClockKey>(out _));

            var raft = await registry.GetAsync<DistSysRaftKey>();
            await raft.WhenReadyAsync(TimeSpan.FromSeconds(10));
            Assert.IsType<KvProtocol.WriteResult>(await raft.Ask<object>(new KvProtocol.Put("k", "v"), TimeSpan.FromSeconds(5)));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task The_all_in_one_extension_registers_every_enabled_module()
    {
        using var host = Host.CreateDefaultBuilder()
            .ConfigureServices(services => services.AddAkka("whole", akka => akka.WithDistSysNode(o => o.NodeId = 1)))
            .Build();
        await host.StartAsync();
        try
        {
            var registry = host.Services.GetRequiredService<ActorRegistry>();
            foreach (var module in Modules.NodeModules.All)
            {
                // Off by default: the Multi-Paxos replica (distsys.kv.consensus = raft); it must then not run either.
                if (!module.IsEnabled(DistSysActors.Actors.Configuration.DistSysConfig.Reference))
                {
                    Assert.False(registry.TryGet(module.RegistryKey, out _), $"module {module.Name} is off by default, yet in the registry");
                    continue;
                }
                Assert.True(registry.TryGet(module.RegistryKey, out var actor), $"module {module.Name} is not in the registry");
                Assert.Equal($"/user/distsys/{module.Name}", actor.Path.ToStringWithoutAddress());
            }
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_module_added_without_the_network_is_refused_naming_what_is_missing()
    {
        using var host = Host.CreateDefaultBuilder()
            .ConfigureServices(services => services.AddAkka("nonet", akka => akka.WithDistSysPing()))
            .Build();
        var e = await Record.ExceptionAsync(async () =>
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<ActorRegistry>().GetAsync<DistSysPingKey>().WaitAsync(TimeSpan.FromSeconds(10));
        });
        try { await host.StopAsync(); } catch (Exception) { /* it never fully started */ }
        Assert.NotNull(e);
        Assert.Contains("needs WithDistSysNetwork", e.ToString());
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

using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Election.Singleton;
using Xunit.Abstractions;

namespace DistSysActors.Actors.Tests.Election;

/// <summary>
/// The singleton module's wiring on a one-node Akka.Cluster: the manager starts the counting singleton on the only
/// (oldest) member, the proxy reaches it, the host reports it as its own instance, and each tick lands in the ledger.
/// </summary>
public sealed class SingletonHostSpec(ITestOutputHelper output) : TestKit(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.port = 0")
    .WithFallback(DistSysConfig.TestOverlay).WithFallback(DistSysConfig.NodeOverlay).WithFallback(DistSysConfig.Reference), "distsys", output)
{
    [Fact]
    public void The_proxy_reaches_the_one_instance_the_oldest_member_hosts_and_its_ticks_reach_the_ledger()
    {
        var ledger = Path.Combine(Path.GetTempPath(), $"singleton-{Guid.NewGuid():N}.ledger");
        try
        {
            var cluster = Akka.Cluster.Cluster.Get(Sys);
            cluster.Join(cluster.SelfAddress);
            var settings = SingletonSettings.Create(Sys.Settings.Config) with { TickMs = 50 };
            Assert.True(SingletonSettings.IsClusterProvider(Sys.Settings.Config));
            var host = Sys.ActorOf(SingletonHostActor.Props(7, settings, ledger, () => 1234), "singleton");

            SingletonProtocol.Status status = null!;
            AwaitAssert(() =>
            {
                status = host.Ask<SingletonProtocol.Status>(SingletonProtocol.GetStatus.Default, TimeSpan.FromSeconds(5)).Result;
                Assert.NotNull(status.Reached);
                Assert.True(status.Reached!.Count >= 2, $"counted {status.Reached.Count}");
            }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
            Assert.Equal(7, status.Reached!.NodeId);
            Assert.Equal("n7-1234", status.Reached.Incarnation);
            Assert.Equal((status.Reached.Incarnation, 1), (status.LocalIncarnation, status.LocalInstances));

            using var reader = new StreamReader(new FileStream(ledger, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("7 n7-1234 0", lines[0]); // written at start
            Assert.Equal("7 n7-1234 1", lines[1]); // then one line per tick
        }
        finally
        {
            try { File.Delete(ledger); } catch (IOException) { }
        }
    }
}

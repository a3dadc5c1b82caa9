using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Hosting;
using Akka.Remote.Hosting;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.Raft;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace DistSysActors.Actors.Tests.Hosting;

/// <summary>
/// Three nodes embedded in three ActorSystems of one process through Akka.Hosting, exactly as an application would
/// (the README's <see cref="EmbeddedNode"/>), and the mistakes an embedder makes, each refused at start with its cause.
/// </summary>
public sealed class EmbeddingSpec(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5) * DistSysActors.Actors.Configuration.DistSysConfig.TestTimeFactor;
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "distsys-embedding", Guid.NewGuid().ToString("N"));

    private static Dictionary<int, (string Host, int Port)> FreePeers(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var peers = listeners.Select((l, i) => (Id: i + 1, Port: ((IPEndPoint)l.LocalEndpoint).Port)).ToDictionary(p => p.Id, p => ("127.0.0.1", p.Port));
        listeners.ForEach(l => l.Stop());
        return peers;
    }

    private static Task<IActorRef> RaftOf(IHost host) => host.Services.GetRequiredService<ActorRegistry>().GetAsync<DistSysRaftKey>();

    [Fact]
    public async Task Three_embedded_nodes_form_a_raft_group_serve_through_the_registry_and_survive_the_loss_of_one()
    {
        var peers = FreePeers(3);
        var hosts = peers.Keys.Order().Select(id => EmbeddedNode.Build(id, peers, _dataDir)).ToArray();
        try
        {
            await Task.WhenAll(hosts.Select(h => h.StartAsync()));
            Assert.Equal("hello", await EmbeddedNode.GreetAsync(hosts[0]));

            // Lose the leader's whole actor system; the other two elect a new leader and keep serving.
            var ready = await (await RaftOf(hosts[1])).WhenReadyAsync(AskTimeout);
            output.WriteLine($"leader before the loss: node {ready.LeaderId} in term {ready.Term}");
            var lost = hosts[ready.LeaderId - 1];
            await lost.StopAsync();
            var survivors = hosts.Where(h => h != lost).ToArray();

            KvProtocol.WriteResult? written = null;
            var deadline = DateTime.UtcNow + AskTimeout * 6;
            while (written is null)
            {
                // Longer than the node's own request timeout: a write forwarded to the lost leader is answered Unavailable then.
                var answer = await (await RaftOf(survivors[0])).Ask<object>(new KvProtocol.Put("greeting", "still here"), AskTimeout * 3);
                written = answer as KvProtocol.WriteResult;
                if (written is null)
                {
                    Assert.True(DateTime.UtcNow < deadline, $"the survivors still answer {answer}");
                    Assert.IsType<KvProtocol.Unavailable>(answer);  // until they elect a leader among themselves
                    await (await RaftOf(survivors[0])).WhenReadyAsync(AskTimeout);
                }
            }
            var read = await (await RaftOf(survivors[1])).Ask<KvProtocol.ReadResult>(
                new KvProtocol.Get("greeting", KvProtocol.Consistency.Linearizable), AskTimeout);
            Assert.Equal("still here", read.Value);
            var after = await (await RaftOf(survivors[1])).WhenReadyAsync(AskTimeout);
            Assert.NotEqual(ready.LeaderId, after.LeaderId);
            Assert.True(after.Term > ready.Term);
        }
        finally
        {
            foreach (var host in hosts)
            {
                try { await host.StopAsync(); } catch (ObjectDisposedException) { }
                host.Dispose();
            }
        }
    }

    private static async Task<Exception> StartFailsAsync(Action<AkkaConfigurationBuilder> configure)
    {
        using var host = Host.CreateDefaultBuilder().ConfigureServices(s => s.AddAkka("app", configure)).Build();
        var e = await Record.ExceptionAsync(async () =>
        {
            await host.StartAsync();
            await RaftOf(host).WaitAsync(TimeSpan.FromSeconds(10));
        });
        try { await host.StopAsync(); } catch (Exception) { /* a host that failed to start may not stop cleanly */ }
        Assert.NotNull(e);
        return e;
    }

    private static string Messages(Exception e) => string.Join(" | ", Enumerate(e).Select(x => x.Message));

    private static IEnumerable<Exception> Enumerate(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
            if (x is AggregateException a) foreach (var inner in a.InnerExceptions.SelectMany(Enumerate)) yield return inner;
        }
    }

    [Fact]
    public async Task Peers_without_remoting_are_refused_at_start_naming_the_cause()
    {
        var e = await StartFailsAsync(akka => akka.WithDistSysNode(o =>
        {
            o.NodeId = 1;
            o.Peers[1] = "akka.tcp://app@127.0.0.1:4051";
            o.Peers[2] = "akka.tcp://app@127.0.0.1:4052";
        }));
        Assert.Contains("has no remoting", Messages(e));
    }

    [Fact]
    public async Task A_peer_naming_another_actor_system_is_refused_at_start()
    {
        var peers = FreePeers(2);
        var e = await StartFailsAsync(akka => akka.WithRemoting("127.0.0.1", peers[1].Port).WithDistSysNode(o =>
        {
            o.NodeId = 1;
            o.Peers[1] = $"akka.tcp://app@127.0.0.1:{peers[1].Port}";
            o.Peers[2] = $"akka.tcp://other@127.0.0.1:{peers[2].Port}";
        }));
        Assert.Contains("names actor system 'other'", Messages(e));
    }

    [Fact]
    public async Task This_nodes_entry_must_be_the_address_remoting_bound()
    {
        var peers = FreePeers(2);
        var e = await StartFailsAsync(akka => akka.WithRemoting("127.0.0.1", peers[1].Port).WithDistSysNode(o =>
        {
            o.NodeId = 1;
            o.Peers[1] = $"akka.tcp://app@127.0.0.1:{peers[2].Port}";
            o.Peers[2] = $"akka.tcp://app@127.0.0.1:{peers[1].Port}";
        }));
        Assert.Contains("but remoting is bound at", Messages(e));
    }

    [Fact]
    public void A_non_durable_journal_gets_a_warning_and_a_durable_one_none()
    {
        var memory = Akka.Configuration.ConfigurationFactory.ParseString("akka.persistence.journal.plugin = \"akka.persistence.journal.inmem\"");
        Assert.Contains("in-memory journal", DistSysHostingExtensions.NonDurableJournalWarning(memory, 2));
        Assert.Contains("breaks Raft's safety", DistSysHostingExtensions.NonDurableJournalWarning(Akka.Configuration.Config.Empty, 2));
        var sql = DistSysActors.Actors.Persistence.SqlitePersistence.Prepare(Path.Combine(Path.GetTempPath(), "distsys-embedding", Guid.NewGuid().ToString("N"), "x.db"));
        Assert.Null(DistSysHostingExtensions.NonDurableJournalWarning(sql, 2));
    }

    [Fact]
    public void The_readme_shows_the_embedding_example_exactly_as_compiled()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "DistSysActors.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no repository root above the test assembly");
        var source = File.ReadAllLines(Path.Combine(root, "tests", "DistSysActors.Actors.Tests", "Hosting", "EmbeddingExample.cs"));
        var example = source.SkipWhile(l => l != "// README:begin").Skip(1).TakeWhile(l => l != "// README:end").ToArray();
        var readme = File.ReadAllLines(Path.Combine(root, "README.md"));
        var block = readme.SkipWhile(l => l != "### Embedding").SkipWhile(l => l != "```csharp").Skip(1).TakeWhile(l => l != "```").ToArray();
        Assert.True(example.Length > 20, "the example region was not found");
        Assert.Equal(example, block);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}

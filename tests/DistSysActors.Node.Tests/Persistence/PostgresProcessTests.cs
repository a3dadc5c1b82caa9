using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DistSysActors.Node.Tests.Processes;
using Npgsql;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Persistence;

/// <summary>
/// One three-node cluster for two properties, to keep process tests few: Akka.Remote over TLS (dot-netty's enable-ssl with
/// a self-signed PKCS#12 certificate made here: the nodes form a cluster, and the remoting port answers a TLS handshake
/// with that certificate), and the Raft group on PostgreSQL (distsys.persistence.journal = postgresql: after kill -9 of
/// every node the cluster comes back with every acknowledged write, read from the database; no node has a SQLite file).
/// Where PostgreSQL cannot be started the cluster runs on SQLite and the PostgreSQL checks are skipped, saying why.
/// </summary>
public sealed class PostgresProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Over_tls_the_raft_group_on_postgresql_keeps_every_acknowledged_write_across_kill_9_of_every_node()
    {
        var (server, reason) = PostgresServer.TryStart();
        if (server is null) output.WriteLine($"SKIPPED the PostgreSQL part: no PostgreSQL server can be started here: {reason}; the cluster runs on SQLite");
        using var _ = server;
        using var cluster = new ProcessCluster(3);
        var (path, password, thumbprint) = MakeCertificate(cluster.DataDir);
        string[] tls =
        [
            "--set", "akka.remote.dot-netty.tcp.enable-ssl=on",
            "--set", $"akka.remote.dot-netty.tcp.ssl.certificate.path={path}",
            "--set", $"akka.remote.dot-netty.tcp.ssl.certificate.password={password}",
            // A self-signed certificate has no chain to a trusted root: skip chain validation (a CA-issued one needs no such line).
            "--set", "akka.remote.dot-netty.tcp.ssl.suppress-validation=on",
        ];
        string[] postgres = server is null ? [] :
            ["--set", "distsys.persistence.journal=postgresql", "--set", $"distsys.persistence.postgresql.connection-string={server.ConnectionString}"];
        for (var i = 1; i <= 3; i++) cluster.Start(i, [.. tls, .. postgres]);
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(240), "every node is ready");
        using (var c = cluster.Client(1)) Assert.Equal(3, (await c.StatusAsync()).Members.Count(m => m.Status == "Up" && m.Address.StartsWith("akka.trttl.ssl.tcp://", StringComparison.Ordinal)));

        // The remoting port itself answers a TLS handshake with the certificate: the links are encrypted, not plain TCP.
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync("127.0.0.1", cluster.BasePort + 1);
            string? presented = null;
            await using var ssl = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) =>
            {
                presented = certificate is null ? null : new X509Certificate2(certificate).Thumbprint;
                return true;
            });
            await ssl.AuthenticateAsClientAsync("localhost").WaitAsync(TestTime.Scaled(TimeSpan.FromSeconds(30)));
            output.WriteLine($"remoting port {cluster.BasePort + 1}: {ssl.SslProtocol}, certificate {presented}");
            Assert.Equal(thumbprint, presented);
        }

        var values = Enumerable.Range(1, 10).ToDictionary(i => $"pg-{i}", i => $"value-{i}");
        foreach (var (index, (key, value)) in values.Index())
        {
            // Through every node in turn: followers forward to the leader.
            using var client = cluster.Client(1 + index % 3);
            await cluster.AwaitAsync(async () => (await client.SendAsync(HttpMethod.Put, $"/kv/{key}", new StringContent(value))).Code == 200,
                TimeSpan.FromSeconds(60), $"PUT /kv/{key} is acknowledged");
        }
        if (server is not null)
        {
            await using var connection = new NpgsqlConnection(server.ConnectionString);
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(DISTINCT persistence_id) FROM journal WHERE persistence_id LIKE 'raft-%'", connection);
            var raftJournals = (long)(await count.ExecuteScalarAsync())!;
            output.WriteLine($"Raft journals in PostgreSQL: {raftJournals}");
            Assert.Equal(3, raftJournals);
        }

        for (var i = 1; i <= 3; i++) cluster.Kill(i);
        if (server is not null)
            for (var i = 1; i <= 3; i++) Assert.False(File.Exists(Path.Combine(cluster.DataDir, $"node-{i}", "distsys.db")), $"node {i} has a SQLite file");
        for (var i = 1; i <= 3; i++) cluster.Start(i, [.. tls, .. postgres]);
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(240), "every node is ready again after kill -9");
        for (var i = 1; i <= 3; i++)
        {
            using var client = cluster.Client(i);
            foreach (var (key, value) in values)
                await cluster.AwaitAsync(async () => await client.SendAsync(HttpMethod.Get, $"/kv/{key}") is (200, var body) && body == value,
                    TimeSpan.FromSeconds(60), $"node {i} reads {key} = {value} after the restart");
        }
        using var writer = cluster.Client(2);
        await cluster.AwaitAsync(async () => (await writer.SendAsync(HttpMethod.Put, "/kv/after", new StringContent("restart"))).Code == 200,
            TimeSpan.FromSeconds(60), "a new write after the restart is acknowledged");
    }

    /// <summary>A self-signed RSA certificate with its private key, written as a password-protected PKCS#12 file.</summary>
    private static (string Path, string Password, string Thumbprint) MakeCertificate(string dir)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=distsys-node", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var password = "p" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var path = System.IO.Path.Combine(dir, "node.pfx");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return (path, password, certificate.Thumbprint);
    }
}

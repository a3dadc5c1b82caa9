using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DistSysActors.Node.Tests.Processes;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.MultiHost;

/// <summary>
/// Akka.Remote over TLS (dot-netty's enable-ssl with a PKCS#12 certificate): two nodes that share a self-signed
/// certificate, made here, form a cluster and replicate a write, and their remoting port speaks TLS with that certificate.
/// </summary>
public sealed class RemoteTlsProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_nodes_with_a_self_signed_certificate_form_a_cluster_over_tls()
    {
        using var cluster = new ProcessCluster(2);
        var (path, password, thumbprint) = MakeCertificate(cluster.DataDir);
        string[] tls =
        [
            "--set", "akka.remote.dot-netty.tcp.enable-ssl=on",
            "--set", $"akka.remote.dot-netty.tcp.ssl.certificate.path={path}",
            "--set", $"akka.remote.dot-netty.tcp.ssl.certificate.password={password}",
            // A self-signed certificate has no chain to a trusted root: skip chain validation (a CA-issued one needs no such line).
            "--set", "akka.remote.dot-netty.tcp.ssl.suppress-validation=on",
        ];
        cluster.Start(1, tls);
        cluster.Start(2, tls);
        await cluster.AwaitAsync(async () =>
        {
            using var c = cluster.Client(1);
            var status = await c.StatusAsync();
            return status.Members.Count(m => m.Status == "Up") == 2;
        }, TimeSpan.FromSeconds(120), "both nodes are Up members over TLS");
        using (var writer = cluster.Client(2))
            await cluster.AwaitAsync(async () => (await writer.SendAsync(HttpMethod.Put, "/kv/tls", new StringContent("on"))).Code == 200,
                TimeSpan.FromSeconds(60), "a write through node 2 is acknowledged");
        using (var reader = cluster.Client(1))
            await cluster.AwaitAsync(async () => await reader.SendAsync(HttpMethod.Get, "/kv/tls") is (200, "on"), TimeSpan.FromSeconds(30), "node 1 reads it");

        // The remoting port itself answers a TLS handshake with the certificate: the link is encrypted, not plain TCP.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", cluster.BasePort + 1);
        string? presented = null;
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : new X509Certificate2(certificate).Thumbprint;
            return true;
        });
        await ssl.AuthenticateAsClientAsync("localhost").WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"remoting port {cluster.BasePort + 1}: {ssl.SslProtocol}, certificate {presented}");
        Assert.Equal(thumbprint, presented);
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
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var path = System.IO.Path.Combine(dir, "node.pfx");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return (path, password, certificate.Thumbprint);
    }
}

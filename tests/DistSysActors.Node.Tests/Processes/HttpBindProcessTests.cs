using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// A node listening beyond loopback (--http-bind 0.0.0.0): its admin endpoints answer another address only with the
/// admin token, while the key-value API and the probes answer everyone; one connection sending faster than its request
/// rate is answered 429 with a reason, while other connections go on.
/// </summary>
public sealed class HttpBindProcessTests(ITestOutputHelper output)
{
    private const string Token = "test-admin-token-8f3a9c";
    private const int RatePerConnection = 40;

    [Fact]
    public async Task Admin_endpoints_need_the_token_from_a_non_loopback_address()
    {
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        if (address is null)
        {
            output.WriteLine("this machine has no non-loopback IPv4 address: the remote case cannot be tried here; only loopback is checked");
        }
        using var cluster = new ProcessCluster(1)
        {
            NodeArgs = ["--http-bind", "0.0.0.0", "--set", $"distsys.http.admin-token={Token}", "--set", $"distsys.http.requests-per-second-per-connection={RatePerConnection}"],
        };
        cluster.StartAll();
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(60), "the node is ready");
        var port = cluster.HttpBasePort + 1;

        async Task<int> StatusOf(IPAddress host, HttpMethod method, string path, string? bearer = null, string? body = null)
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://{(host.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]" : host)}:{port}") };
            using var request = new HttpRequestMessage(method, path);
            if (bearer is not null) request.Headers.Authorization = new("Bearer", bearer);
            if (body is not null) request.Content = new StringContent(body);
            using var response = await http.SendAsync(request);
            output.WriteLine($"{method} {path} via {host}{(bearer is null ? "" : " with a token")}: {(int)response.StatusCode}");
            return (int)response.StatusCode;
        }

        Assert.Equal(200, await StatusOf(IPAddress.Loopback, HttpMethod.Get, "/admin/members"));

        // One connection (sequential requests on one HttpClient) sending five times its second's worth: refused beyond it.
        using (var flood = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") })
        {
            var codes = new List<int>();
            (int Code, string Body, string? RetryAfter) refused = default;
            for (var i = 0; i < 5 * RatePerConnection; i++)
            {
                using var response = await flood.GetAsync("/health/live");
                codes.Add((int)response.StatusCode);
                if (response.StatusCode == HttpStatusCode.TooManyRequests && refused.Code == 0)
                    refused = (429, await response.Content.ReadAsStringAsync(), response.Headers.RetryAfter?.ToString());
            }
            output.WriteLine($"one connection, {codes.Count} requests: {codes.Count(c => c == 200)} answered 200, {codes.Count(c => c == 429)} 429");
            Assert.Equal(429, refused.Code);
            Assert.Contains("requests per second on this connection", refused.Body);
            Assert.Equal("1", refused.RetryAfter);
            Assert.True(codes.Count(c => c == 200) >= RatePerConnection, "the first second's worth of requests is answered");
            // Another connection is not held back by the first one's rate.
            using var other = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/health/live")).StatusCode);
        }
        if (address is null) return;
        Assert.Equal(401, await StatusOf(address, HttpMethod.Get, "/admin/members"));
        Assert.Equal(401, await StatusOf(address, HttpMethod.Post, "/admin/faults", bearer: "wrong-token-0000000000", body: """{"dropRate": 0.5}"""));
        Assert.Equal(200, await StatusOf(address, HttpMethod.Get, "/admin/members", bearer: Token));
        Assert.Equal(200, await StatusOf(address, HttpMethod.Get, "/health/ready"));
        await cluster.AwaitAsync(async () => await StatusOf(address, HttpMethod.Put, "/kv/remote", body: "v") == 200,
            TimeSpan.FromSeconds(30), "a write through the non-loopback address succeeds");
        // The refused fault spec was not installed.
        using var local = cluster.Client(1);
        Assert.Equal(0.0, (await local.StatusAsync()).Network.Faults.DropRate);
    }
}

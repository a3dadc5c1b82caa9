using System.Net;
using DistSysActors.Node.Http;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Tests.Http;

/// <summary>Who may call what: admin endpoints from loopback or with the admin token, data endpoints with the kv token when one is set.</summary>
public class HttpGuardsTests
{
    private const string AdminToken = "admin-token-0123456789";
    private const string KvToken = "kv-token-0123456789ab";
    private static readonly IPAddress Remote = IPAddress.Parse("10.1.2.3");

    private static int? Status(string path, IPAddress from, HttpSettings settings, string? bearer = null, string method = "GET")
    {
        var http = new DefaultHttpContext();
        http.Request.Path = path;
        http.Request.Method = method;
        http.Connection.RemoteIpAddress = from;
        if (bearer is not null) http.Request.Headers.Authorization = $"Bearer {bearer}";
        return (HttpGuards.Refuse(http.Request, settings) as IStatusCodeHttpResult)?.StatusCode;
    }

    private static HttpSettings Open => new(IPAddress.Any, null, null);

    [Theory]
    [InlineData("/admin/faults")]
    [InlineData("/admin/members")]
    [InlineData("/admin/raft/transfer")]
    public void Admin_from_another_machine_is_403_without_a_token(string path)
    {
        Assert.Equal(403, Status(path, Remote, Open));
        Assert.Null(Status(path, IPAddress.Loopback, Open));
        Assert.Null(Status(path, IPAddress.IPv6Loopback, Open));
        Assert.Null(Status(path, IPAddress.Loopback.MapToIPv6(), Open));
        Assert.Null(Status("/kv/a", Remote, Open));
        Assert.Null(Status("/status", Remote, Open));
    }

    [Theory]
    [InlineData("POST", "/dashboard/nodes/1/kill")]
    [InlineData("POST", "/dashboard/faults")]
    [InlineData("DELETE", "/dashboard/faults")]
    [InlineData("PUT", "/dashboard/kv/a")]
    [InlineData("POST", "/dashboard/transfer")]
    public void The_dashboards_controls_are_admin_endpoints(string method, string path)
    {
        Assert.Equal(403, Status(path, Remote, Open, method: method));
        Assert.Null(Status(path, IPAddress.Loopback, Open, method: method));
        Assert.Null(Status(path, Remote, Open with { AdminToken = AdminToken }, bearer: AdminToken, method: method));
        // Watching stays open: the page, its view and its event stream.
        Assert.Null(Status("/dashboard/view", Remote, Open));
        Assert.Null(Status("/", Remote, Open));
    }

    [Fact]
    public void Admin_from_another_machine_needs_the_configured_token()
    {
        var settings = Open with { AdminToken = AdminToken };
        Assert.Equal(401, Status("/admin/faults", Remote, settings));
        Assert.Equal(401, Status("/admin/faults", Remote, settings, bearer: AdminToken + "x"));
        Assert.Equal(401, Status("/admin/faults", Remote, settings, bearer: KvToken));
        Assert.Null(Status("/admin/faults", Remote, settings, bearer: AdminToken));
        Assert.Null(Status("/admin/faults", IPAddress.Loopback, settings));
    }

    [Fact]
    public void A_kv_token_guards_every_data_endpoint_from_everywhere_but_not_probes()
    {
        var settings = Open with { KvToken = KvToken };
        foreach (var path in new[] { "/kv/a", "/kv/a/cas", "/paxos/r", "/anything" })
        {
            Assert.Equal(401, Status(path, IPAddress.Loopback, settings));
            Assert.Null(Status(path, IPAddress.Loopback, settings, bearer: KvToken));
        }
        Assert.Null(Status("/health/ready", Remote, settings));
        Assert.Null(Status("/status", Remote, settings));
    }

    [Fact]
    public void Oversized_targets_and_headers_are_refused_with_a_reason()
    {
        var http = new DefaultHttpContext();
        http.Request.Path = "/kv/" + new string('k', HttpSettings.UrlBytesMax);
        Assert.Equal(414, (HttpGuards.Refuse(http.Request, Open) as IStatusCodeHttpResult)?.StatusCode);

        http = new DefaultHttpContext();
        http.Request.Path = "/kv/a";
        http.Request.Headers["X-Big"] = new string('h', HttpSettings.HeadersBytesMax);
        Assert.Equal(431, (HttpGuards.Refuse(http.Request, Open) as IStatusCodeHttpResult)?.StatusCode);
    }

    [Theory]
    [InlineData("0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("localhost", false)]
    [InlineData("300.1.1.1", false)]
    public void Bind_must_be_an_address(string bind, bool valid)
    {
        var config = Akka.Configuration.ConfigurationFactory.ParseString($"distsys.http.bind = \"{bind}\"")
            .WithFallback(DistSysActors.Actors.Configuration.DistSysConfig.Reference);
        if (valid) Assert.Equal(IPAddress.Parse(bind), HttpSettings.Create(config).Bind);
        else Assert.Contains("not an IP address", Assert.Throws<Akka.Configuration.ConfigurationException>(() => HttpSettings.Create(config)).Message);
    }

    [Fact]
    public void A_short_token_is_refused()
    {
        var config = Akka.Configuration.ConfigurationFactory.ParseString("distsys.http.admin-token = \"short\"")
            .WithFallback(DistSysActors.Actors.Configuration.DistSysConfig.Reference);
        Assert.Contains("16 to 256", Assert.Throws<Akka.Configuration.ConfigurationException>(() => HttpSettings.Create(config)).Message);
    }
}

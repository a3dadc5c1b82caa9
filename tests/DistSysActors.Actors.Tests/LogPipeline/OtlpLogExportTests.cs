using System.Net;
using System.Net.Sockets;
using System.Text;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.Tests.LogPipeline;

/// <summary>
/// Records leave through the OpenTelemetry SDK's OTLP exporter: a tiny OTLP/HTTP receiver takes what the exporter posts
/// to /v1/logs and finds the record's trace id (its 16 bytes, as OTLP carries it), body, attributes, stamps and node.
/// </summary>
public sealed class OtlpLogExportTests
{
    [Fact]
    public async Task A_record_leaves_with_its_trace_id_body_attributes_and_causal_stamps()
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var posts = new List<(string Path, byte[] Body)>();
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                lock (posts) posts.Add((context.Request.Url!.AbsolutePath, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        });

        const string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        var record = new LogRecord("3.abc.7", new NodeId(3), 1_700_000_000_000, 1_700_000_000_001, new HlcTimestamp(1_700_000_000_002, 4), 42, Severity.Warn,
            "http PUT /kv/greeting answered 503", trace, "00f067aa0ba902b7", NodeLog.Attributes(("http.path", "/kv/greeting"), ("http.status", "503")),
            VectorClock.From([new VectorClockEntry(new NodeId(1), 5), new VectorClockEntry(new NodeId(3), 9)]));
        // Disposing flushes the SDK's batch: the post has been answered when it returns.
        using (var export = OtlpLogExport.ToCollector(new NodeId(3), $"http://127.0.0.1:{port}/v1/logs")) export.Export(record);
        listener.Stop();
        await serving;

        var (path, sent) = Assert.Single(posts);
        Assert.Equal("/v1/logs", path);
        Assert.True(Contains(sent, Convert.FromHexString(trace)), "the trace id's 16 bytes");
        foreach (var text in new[] { "http PUT /kv/greeting answered 503", "http.path", "/kv/greeting", "http.status", "node-3", "distsys.lamport",
                     "distsys.hlc", "1700000000002.4", "distsys.vector", "1:5,3:9", "00f067aa0ba902b7" })
            Assert.True(Contains(sent, Encoding.UTF8.GetBytes(text)), $"'{text}' in the OTLP request");
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}

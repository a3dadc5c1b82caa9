using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DistSysActors.Dashboard.Tests;

/// <summary>
/// A write no node can commit reports the cause a node gave (no leader known), not the socket error of a node that is
/// down, which the CLI happened to try last: node 1 answers 503 "no Raft leader is known", nodes 2 and 3 refuse connections.
/// </summary>
public sealed class FailedWriteCauseTests
{
    [Fact]
    public async Task Kv_put_without_a_quorum_reports_the_nodes_answer_and_which_nodes_did_not_answer()
    {
        var httpBase = FreeBase();
        using var node1 = new HttpListener();
        node1.Prefixes.Add($"http://127.0.0.1:{httpBase + 1}/");
        node1.Start();
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try { context = await node1.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
                var status = context.Request.Url!.AbsolutePath == "/status";
                var body = status
                    ? """{"nodeId":1,"address":"akka.trttl.tcp://distsys@127.0.0.1:1","nodes":3,"incarnation":1,"restarts":0,"selfStatus":"Up","members":[],"network":null,"ping":[]}"""
                    : """{"error":"no Raft leader is known","outcome":"not-applied"}""";
                context.Response.StatusCode = status ? 200 : 503;
                context.Response.ContentType = "application/json";
                var bytes = Encoding.UTF8.GetBytes(body);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });

        var info = new ProcessStartInfo(LocalLauncherProcess.Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "kv", "put", "k", "v", "--http-base-port", $"{httpBase}" }) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(LocalLauncherProcess.Scaled(TimeSpan.FromSeconds(60)));
        await p.WaitForExitAsync(cancel.Token);
        await stop.CancelAsync();
        node1.Stop();

        var error = await stderr;
        Assert.Equal(1, p.ExitCode);
        Assert.Contains("HTTP 503", error);
        Assert.Contains("no Raft leader is known", error);
        Assert.Contains("(nodes 2,3 did not answer)", error);
        Assert.DoesNotContain("refused", error);
    }

    private static int FreeBase()
    {
        var random = new Random();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var b = random.Next(20_000, 32_000);
            if (Enumerable.Range(1, 9).All(i => IsFree(b + i))) return b;
        }
        throw new InvalidOperationException("no free port range");
    }

    private static bool IsFree(int port)
    {
        try { using var l = new TcpListener(IPAddress.Loopback, port); l.Start(); return true; }
        catch (SocketException) { return false; }
    }
}

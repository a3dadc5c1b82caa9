using System.CommandLine;
using System.Text;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys ap put|get|del`: the anti-entropy AP store over HTTP (<c>/ap/{key}</c>) on one node, with each answer's HLC version.</summary>
internal static class ApCommand
{
    public static Command Create()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        node.Recursive = httpBasePort.Recursive = true;
        var command = new Command("ap", "Write, read and delete keys of the AP store (accepted by any node at once, converging by anti-entropy)") { node, httpBasePort };
        var key = new Argument<string>("key") { Description = "The key" };
        var value = new Argument<string>("value") { Description = "The value (UTF-8 text)" };

        var put = new Command("put", "Write a value on one node; prints the version (HLC and writer) it got") { key, value };
        put.SetAction((p, ct) => RunAsync(p.GetValue(node), p.GetValue(httpBasePort), HttpMethod.Put, p.GetValue(key)!, p.GetValue(value), ct));
        var get = new Command("get", "Read one node's replica; prints the value and its version") { key };
        get.SetAction((p, ct) => RunAsync(p.GetValue(node), p.GetValue(httpBasePort), HttpMethod.Get, p.GetValue(key)!, null, ct));
        var del = new Command("del", "Delete a key on one node (a tombstone that wins over older writes)") { key };
        del.SetAction((p, ct) => RunAsync(p.GetValue(node), p.GetValue(httpBasePort), HttpMethod.Delete, p.GetValue(key)!, null, ct));

        command.Subcommands.Add(put);
        command.Subcommands.Add(get);
        command.Subcommands.Add(del);
        return command;
    }

    private static async Task<int> RunAsync(int? node, int httpBasePort, HttpMethod method, string key, string? value, CancellationToken ct)
    {
        var (client, _) = await CommonOptions.ConnectAsync(node, httpBasePort, ct);
        using (client)
        using (var http = new HttpClient(new Client.NodeClient.BearerTokens()) { BaseAddress = client.BaseAddress, Timeout = TimeSpan.FromSeconds(10) })
        {
            using var request = new HttpRequestMessage(method, $"/ap/{Uri.EscapeDataString(key)}");
            if (value is not null) request.Content = new StringContent(value, Encoding.UTF8, "text/plain");
            using var response = await http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            var version = response.Headers.TryGetValues(Http.ApHttpApi.HlcHeader, out var hlc)
                ? $" (hlc {hlc.First()}, writer {response.Headers.GetValues(Http.ApHttpApi.WriterHeader).First()})"
                : "";
            var code = (int)response.StatusCode;
            if (method == HttpMethod.Get && code == 200) Console.WriteLine($"node {client.NodeId}: {body}{version}");
            else if (code == 200) Console.WriteLine($"node {client.NodeId}: {(method == HttpMethod.Delete ? "deleted" : "written")}{version}");
            else if (code == 404) Console.WriteLine($"node {client.NodeId}: not found{version}");
            else Console.Error.WriteLine($"node {client.NodeId}: HTTP {code}: {body}");
            return code switch { 200 => 0, 404 => 2, _ => 1 };
        }
    }
}

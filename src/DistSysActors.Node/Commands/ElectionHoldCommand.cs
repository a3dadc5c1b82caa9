using System.CommandLine;
using System.Text.Json.Nodes;
using DistSysActors.Node.Client;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys election hold`: a lease-holding client process. It campaigns until it wins, renews in the background, and
/// writes each line read from standard input to a register with the token it won: the fenced register
/// (<c>PUT /fenced/{key}</c>, refused once a later holder has written with a higher token) or, with <c>--unfenced</c>,
/// the plain key-value store (<c>PUT /kv/{key}</c>), which cannot tell a late writer from the holder. Pause it
/// (<c>kill -STOP</c>) past its TTL to see why fencing tokens matter.
/// </summary>
internal static partial class ElectionCommand
{
    private static Command CreateHold(Option<int?> node, Option<int> httpBasePort)
    {
        var name = new Argument<string>("name") { Description = "The election's name" };
        var candidate = new Option<string>("--candidate") { Description = "This holder's id", Required = true };
        var ttl = new Option<long>("--ttl-ms") { Description = "The lease's TTL", DefaultValueFactory = _ => 3_000 };
        var key = new Option<string>("--key") { Description = "The register each line of standard input is written to", Required = true };
        var unfenced = new Option<bool>("--unfenced") { Description = "Write to /kv/{key} without a token (to see the corruption fencing prevents)" };
        var hold = new Command("hold", "Hold a lease and write each stdin line to a register with its fencing token (pause it past the TTL to see a late write refused)")
            { name, candidate, ttl, key, unfenced };
        hold.SetAction(async (p, ct) =>
        {
            var (client, _) = await CommonOptions.ConnectAsync(p.GetValue(node), p.GetValue(httpBasePort), ct);
            using (client)
                return await HoldAsync(client, p.GetValue(name)!, p.GetValue(candidate)!, p.GetValue(ttl), p.GetValue(key)!, p.GetValue(unfenced), ct);
        });
        return hold;
    }

    private static async Task<int> HoldAsync(NodeClient client, string name, string candidate, long ttlMs, string key, bool unfenced, CancellationToken ct)
    {
        var path = LeasePath(name);
        long token;
        while (true)
        {
            var (code, body) = await client.SendAsync(HttpMethod.Post, $"{path}/campaign", Json(new JsonObject { ["candidate"] = CandidateJson(candidate), ["ttlMs"] = ttlMs }), ct);
            if (code == 200)
            {
                token = JsonNode.Parse(body)!["token"]!.GetValue<long>();
                break;
            }
            Console.WriteLine($"waiting: {body}");
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(100, ttlMs / 3)), ct);
        }
        Console.WriteLine($"won token {token} pid {Environment.ProcessId}");

        // Renewals run beside the writes, as a lease client library's keep-alive does; a pause stops both.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewals = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(50, ttlMs / 3)), stop.Token);
                var (code, body) = await client.SendAsync(HttpMethod.Post, $"{path}/renew", Json(new JsonObject { ["candidate"] = CandidateJson(candidate), ["token"] = token }), stop.Token);
                Console.WriteLine(code == 200 ? "renewed" : $"lost the lease: {body}");
                if (code != 200) return;
            }
        }, stop.Token);

        // The writer trusts the token it holds: a pause between its check and its write is exactly what fencing is for.
        while (await Console.In.ReadLineAsync(ct) is { } line)
        {
            var (code, body) = unfenced
                ? await client.SendAsync(HttpMethod.Put, $"/kv/{Uri.EscapeDataString(key)}", new StringContent(line, System.Text.Encoding.UTF8, "text/plain"), ct)
                : await FencedPutAsync(client, key, token, line, ct);
            Console.WriteLine(code == 200 ? $"write accepted: {line}" : $"write refused ({code}): {body}");
        }
        await stop.CancelAsync();
        try { await renewals; }
        catch (OperationCanceledException) { }
        return 0;
    }
}

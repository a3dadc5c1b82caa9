using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys clock`: every node's clock service as a table, checked against the skews injected for the demonstration.</summary>
internal static class ClockCommand
{
    public static Command Create()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        var command = new Command("clock",
            "Show every node's clock: injected skew, estimated offset to the reference node, delay, error of the corrected clock, HLC")
        { node, httpBasePort };
        command.SetAction(async (parse, ct) =>
        {
            var (client, status) = await CommonOptions.ConnectAsync(parse.GetValue(node), parse.GetValue(httpBasePort), ct);
            using var _ = client;
            var clocks = new SortedDictionary<int, ClockDto?>();
            foreach (var id in Client.NodeEndpoints.Current.Ids(status))
            {
                using var c = Client.NodeEndpoints.Current.Create(id, parse.GetValue(httpBasePort));
                try { clocks[id] = (await c.StatusAsync(ct)).Clock; }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException) { clocks[id] = null; }
            }
            Console.Write(Render(clocks, status.Clock?.ReferenceNodeId));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// One row per node. TRUE OFFSET is what the estimate should be: the node's injected offset minus the reference's;
    /// CORRECTED ERR is the node's corrected clock minus the reference's corrected clock, from the same truth.
    /// </summary>
    public static string Render(IReadOnlyDictionary<int, ClockDto?> clocks, int? referenceNodeId)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        var reference = referenceNodeId is { } r && clocks.TryGetValue(r, out var rc) ? rc : null;
        var mode = clocks.Values.FirstOrDefault(c => c is not null)?.Mode ?? "?";
        w.WriteLine($"clock sync: {mode}, reference node {referenceNodeId?.ToString(CultureInfo.InvariantCulture) ?? "?"}");
        w.WriteLine();
        w.WriteLine($"{"NODE",-5} {"SKEW MS",-8} {"OFFSET MS",-10} {"TRUE OFFSET",-12} {"DELAY MS",-9} {"CORRECTED ERR MS",-17} {"SYNCED",-7} {"HLC REJ",-8} HLC");
        double? worst = null;
        foreach (var (id, c) in clocks)
        {
            if (c is null) { w.WriteLine($"{id,-5} (no answer or clock disabled)"); continue; }
            double? trueOffset = reference is null ? null : c.InjectedOffsetMs - reference.InjectedOffsetMs;
            double? correctedError = reference is null ? null : c.CorrectedOffsetMs - reference.CorrectedOffsetMs;
            if (correctedError is { } e && (worst is null || Math.Abs(e) > worst)) worst = Math.Abs(e);
            w.WriteLine($"{id,-5} {c.InjectedOffsetMs,-8} {Ms(c.OffsetMs),-10} {Ms(trueOffset),-12} {c.DelayMs?.ToString(CultureInfo.InvariantCulture) ?? "-",-9} " +
                        $"{Ms(correctedError),-17} {(c.Synced ? "yes" : "no"),-7} {c.HlcRejected,-8} {c.Hlc.WallMs}.{c.Hlc.Logical}");
        }
        w.WriteLine();
        w.WriteLine(worst is { } max
            ? $"largest corrected-clock error against node {referenceNodeId}: {max.ToString("0.0", CultureInfo.InvariantCulture)} ms"
            : "the reference node did not answer: no errors computed");
        return w.ToString();
    }

    private static string Ms(double? value) => value is { } v ? (Math.Round(v, 1) + 0.0).ToString("0.0", CultureInfo.InvariantCulture) : "-"; // + 0.0 turns -0 into 0
}

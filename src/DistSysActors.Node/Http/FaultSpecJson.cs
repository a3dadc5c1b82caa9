using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Node.Http;

/// <summary>
/// The JSON form of a fault spec (README: HTTP API):
/// <c>{"partitions": [[1,2],[3]], "dropRate": 0.1, "delayMs": [5,50], "duplicateRate": 0.0, "reorder": false, "seed": 7}</c>,
/// every field optional. Parsing is strict: unknown fields, wrong types and out-of-range values are errors.
/// </summary>
public static class FaultSpecJson
{
    /// <summary>A fault spec is a few hundred bytes; a larger body is refused unread.</summary>
    public const int BodyBytesMax = 16 * 1024;

    private static readonly string[] Fields = ["partitions", "dropRate", "delayMs", "duplicateRate", "reorder", "seed"];

    public static (FaultSpec? Spec, string? Error) Parse(string body, int nodes)
    {
        var (spec, error) = JsonBody.Parse(body, "{\"partitions\": [[1,2],[3]], \"dropRate\": 0.1, ...}", Fields, b =>
        {
            var spec = new FaultSpec
            {
                Partitions = b.Array("partitions", g => g is JsonArray members
                        ? members.Select(m => new NodeId(JsonBody.IntElement("partitions", m))).ToImmutableArray()
                        : throw new JsonBodyException("partitions must be an array of arrays of node ids"), "an array of arrays of node ids")
                    ?.ToImmutableArray() ?? ImmutableArray<ImmutableArray<NodeId>>.Empty,
                DropRate = b.Double("dropRate") ?? 0,
                DuplicateRate = b.Double("duplicateRate") ?? 0,
                Reorder = b.Bool("reorder") ?? false,
                Seed = b.Long("seed"),
            };
            if (b.Has("delayMs"))
            {
                var range = b.Array("delayMs", m => JsonBody.IntElement("delayMs", m), "an array [min, max]");
                if (range is not { Count: 2 }) throw new JsonBodyException("delayMs must be an array [min, max]");
                spec = spec with { DelayMinMs = range[0], DelayMaxMs = range[1] };
            }
            return spec;
        }, emptyIsEmptyObject: true);
        if (spec is null) return (null, error);
        var errors = spec.Validate().ToList();
        foreach (var node in spec.Partitions.SelectMany(g => g))
            if (node.Value > nodes) errors.Add($"partitions: node {node} is not in this cluster (nodes 1..{nodes})");
        return errors.Count > 0 ? (null, string.Join("; ", errors)) : (spec, null);
    }
}

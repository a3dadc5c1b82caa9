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
    private static readonly string[] Fields = ["partitions", "dropRate", "delayMs", "duplicateRate", "reorder", "seed"];

    public static (FaultSpec? Spec, string? Error) Parse(string body, int nodes)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(string.IsNullOrWhiteSpace(body) ? "{}" : body); }
        catch (JsonException e) { return (null, $"malformed JSON: {e.Message}"); }
        if (root is not JsonObject obj) return (null, "the body must be a JSON object");
        try
        {
            foreach (var (name, _) in obj)
                if (!Fields.Contains(name)) return (null, $"unknown field '{name}' (allowed: {string.Join(", ", Fields)})");
            var spec = new FaultSpec
            {
                Partitions = obj["partitions"] is { } p ? ParsePartitions(p) : ImmutableArray<ImmutableArray<NodeId>>.Empty,
                DropRate = obj["dropRate"]?.GetValue<double>() ?? 0,
                DuplicateRate = obj["duplicateRate"]?.GetValue<double>() ?? 0,
                Reorder = obj["reorder"]?.GetValue<bool>() ?? false,
                Seed = obj["seed"]?.GetValue<long>(),
            };
            if (obj["delayMs"] is { } d)
            {
                if (d is not JsonArray { Count: 2 } range) return (null, "delayMs must be an array [min, max]");
                spec = spec with { DelayMinMs = range[0]!.GetValue<int>(), DelayMaxMs = range[1]!.GetValue<int>() };
            }
            var errors = spec.Validate().ToList();
            foreach (var node in spec.Partitions.SelectMany(g => g))
                if (node.Value > nodes) errors.Add($"partitions: node {node} is not in this cluster (nodes 1..{nodes})");
            return errors.Count > 0 ? (null, string.Join("; ", errors)) : (spec, null);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or JsonException)
        {
            return (null, $"invalid fault spec: {e.Message}");
        }
    }

    private static ImmutableArray<ImmutableArray<NodeId>> ParsePartitions(JsonNode node)
    {
        if (node is not JsonArray groups) throw new FormatException("partitions must be an array of arrays of node ids");
        return groups.Select(g => g is JsonArray members
                ? members.Select(m => new NodeId(m!.GetValue<int>())).ToImmutableArray()
                : throw new FormatException("partitions must be an array of arrays of node ids"))
            .ToImmutableArray();
    }
}

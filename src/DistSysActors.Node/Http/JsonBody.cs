using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Http;

/// <summary>
/// The one way every JSON request body is read: bounded in bytes, strict UTF-8, a JSON object whose fields are all
/// known and each appears once, every value of the expected type. Any fault is a <see cref="JsonBodyException"/>
/// turned into one answer shape: 400 <c>{"error": reason}</c> (413 when the body is too large). A parser built on it
/// reads fields through the typed getters, so no malformed input can reach it as an unexpected exception.
/// </summary>
public sealed class JsonBody
{
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 16 };
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    private readonly JsonObject _fields;

    private JsonBody(JsonObject fields) => _fields = fields;

    /// <summary>
    /// Parses <paramref name="body"/> as an object with only <paramref name="allowed"/> fields and builds the request
    /// with <paramref name="read"/>; <paramref name="shape"/> is the expected form, quoted in errors. An empty body
    /// stands for <c>{}</c> when <paramref name="emptyIsEmptyObject"/>.
    /// </summary>
    public static (T? Value, string? Error) Parse<T>(string body, string shape, IReadOnlyCollection<string> allowed,
        Func<JsonBody, T> read, bool emptyIsEmptyObject = false)
    {
        try
        {
            JsonNode? root;
            if (string.IsNullOrWhiteSpace(body))
            {
                if (!emptyIsEmptyObject) throw new JsonBodyException($"the body must be a JSON object {shape}");
                root = new JsonObject();
            }
            else root = JsonNode.Parse(body, documentOptions: Strict);
            if (root is not JsonObject obj) throw new JsonBodyException($"the body must be a JSON object {shape}");
            foreach (var (name, _) in obj)
                if (!allowed.Contains(name)) throw new JsonBodyException($"unknown field '{name}' (allowed: {string.Join(", ", allowed)})");
            return (read(new JsonBody(obj)), null);
        }
        catch (JsonException e) { return (default, $"malformed JSON: {Reason(e)}"); }
        catch (JsonBodyException e) { return (default, e.Message); }
    }

    /// <summary>
    /// Reads <paramref name="node"/> as an object with only <paramref name="allowed"/> fields (an element of an array
    /// in a body, say); <paramref name="what"/> names it in errors.
    /// </summary>
    public static JsonBody Object(JsonNode? node, string what, IReadOnlyCollection<string> allowed)
    {
        if (node is not JsonObject obj) throw new JsonBodyException($"{what} must be a JSON object, was {Show(node)}");
        foreach (var (name, _) in obj)
            if (!allowed.Contains(name)) throw new JsonBodyException($"{what}: unknown field '{name}' (allowed: {string.Join(", ", allowed)})");
        return new JsonBody(obj);
    }

    /// <summary>Parses JSON text strictly (a repeated field name is malformed), for bodies read as a whole node.</summary>
    public static JsonNode? ParseStrict(string text) => JsonNode.Parse(text, documentOptions: Strict);

    /// <summary><see cref="Parse{T}"/> answering an HTTP error: 400 <c>{"error"}</c>.</summary>
    public static (T? Value, IResult? Error) ParseRequest<T>(string body, string shape, IReadOnlyCollection<string> allowed,
        Func<JsonBody, T> read, bool emptyIsEmptyObject = false)
    {
        var (value, error) = Parse(body, shape, allowed, read, emptyIsEmptyObject);
        return error is null ? (value, null) : (default, BadRequest(error));
    }

    public static IResult BadRequest(string reason) => Results.Json(new ErrorDto(reason), statusCode: 400);

    public static IResult TooLarge(int bytesMax) => Results.Json(new ErrorDto($"the body exceeds {bytesMax} bytes"), statusCode: 413);

    /// <summary>
    /// Reads the body as UTF-8 text, refusing (413) more than <paramref name="bytesMax"/> bytes without reading them all.
    /// The bytes go to a pooled buffer sized by Content-Length (a fresh buffer and a growing stream per request were a
    /// third of a node's allocations under write load).
    /// </summary>
    public static async Task<(string? Text, IResult? Error)> ReadTextAsync(HttpRequest request, int bytesMax, string what = "the body")
    {
        if (request.ContentLength > bytesMax) return (null, TooLarge(bytesMax, what));
        // One byte more than the limit, so a body longer than the limit is seen without reading it all.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 4096, bytesMax) + 1);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, bytesMax + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length));
                if (read == 0) break;
                length += read;
                if (length > bytesMax) return (null, TooLarge(bytesMax, what));
            }
            try { return (StrictUtf8.GetString(buffer, 0, length), null); }
            catch (DecoderFallbackException) { return (null, BadRequest($"{what} must be UTF-8 text")); }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    private static IResult TooLarge(int bytesMax, string what) => Results.Json(new ErrorDto($"{what} exceeds {bytesMax} bytes"), statusCode: 413);

    public bool Has(string field) => _fields.ContainsKey(field);

    /// <summary>The field's node, null when absent or JSON null.</summary>
    public JsonNode? Node(string field) => _fields[field];

    public string String(string field) =>
        StringOrNull(field) ?? throw new JsonBodyException($"{field} is required and must be a string");

    public string? StringOrNull(string field) => _fields[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw new JsonBodyException($"{field} must be a string or null, was {Show(other)}"),
    };

    public long? Long(string field) => Number(field, _fields[field], static (JsonValue v, out long n) => v.TryGetValue(out n));

    public int? Int(string field) => Number(field, _fields[field], static (JsonValue v, out int n) => v.TryGetValue(out n));

    public double? Double(string field) => Number(field, _fields[field], static (JsonValue v, out double n) => v.TryGetValue(out n));

    public bool? Bool(string field) => _fields[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        var other => throw new JsonBodyException($"{field} must be true or false, was {Show(other)}"),
    };

    /// <summary>The field as an array (null when absent) whose elements <paramref name="element"/> reads.</summary>
    public List<T>? Array<T>(string field, Func<JsonNode?, T> element, string shape) => _fields[field] switch
    {
        null => null,
        JsonArray a => a.Select(element).ToList(),
        var other => throw new JsonBodyException($"{field} must be {shape}, was {Show(other)}"),
    };

    /// <summary>An integer element of an array, or a fault naming <paramref name="field"/>.</summary>
    public static int IntElement(string field, JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int n)
            ? n
            : throw new JsonBodyException($"{field} must hold integers, found {Show(node)}");

    private delegate bool TryNumber<T>(JsonValue value, out T number);

    private static T? Number<T>(string field, JsonNode? node, TryNumber<T> get) where T : struct => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && get(v, out var n) => n,
        var other => throw new JsonBodyException($"{field} must be {(typeof(T) == typeof(double) ? "a number" : "an integer")} in range, was {Show(other)}"),
    };

    public static string Show(JsonNode? node)
    {
        var text = node?.ToJsonString() ?? "null";
        return text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
    }

    private static string Reason(JsonException e) =>
        // The message names the position; it never repeats the body.
        e.Message.Length <= 200 ? e.Message : e.Message[..200];
}

/// <summary>A request body that does not have the expected form; its message is the reason the client is told.</summary>
public sealed class JsonBodyException(string message) : Exception(message);

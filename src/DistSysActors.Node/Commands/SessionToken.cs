using System.Globalization;
using System.Text.Json;

namespace DistSysActors.Node.Commands;

/// <summary>
/// The CLI's client session: one file holding the highest Raft log index this user's writes were committed at and
/// their session reads observed. `kv get --session` reads with read-your-writes at that index, so it sees every earlier
/// write of the session and never an older state than an earlier session read, whichever node answers.
/// </summary>
internal static class SessionToken
{
    public const string EnvironmentVariable = "DISTSYS_SESSION_FILE";

    /// <summary>
    /// The given file, else $DISTSYS_SESSION_FILE, else one per cluster: ~/.distsys/session-&lt;http-base-port&gt; on the
    /// port plan, ~/.distsys/session-&lt;host&gt;-&lt;port&gt; of the endpoint when one is given (clusters on other hosts
    /// may share a port plan's numbers, and one cluster's log index means nothing to another).
    /// </summary>
    public static string PathOf(string? given, int httpBasePort, Uri? endpoint = null)
    {
        if (!string.IsNullOrWhiteSpace(given)) return Path.GetFullPath(given);
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env) return Path.GetFullPath(env);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var name = endpoint is null
            ? httpBasePort.ToString(CultureInfo.InvariantCulture)
            : $"{new string(endpoint.Host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray())}-{endpoint.Port.ToString(CultureInfo.InvariantCulture)}";
        return Path.Combine(home, ".distsys", $"session-{name}");
    }

    /// <summary>The index in the file; 0 when there is none yet. A file that is not an index is an error, not a silent 0.</summary>
    public static long Read(string path)
    {
        if (!File.Exists(path)) return 0;
        var text = File.ReadAllText(path).Trim();
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            throw new CommandException($"the session token file {path} holds '{text}', not a log index; delete it to start a new session");
        return index;
    }

    /// <summary>Raises the file's index to <paramref name="index"/> (never lowers it), replacing the file atomically.</summary>
    public static void Advance(string path, long index)
    {
        if (index <= Read(path)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, index.ToString(CultureInfo.InvariantCulture) + "\n");
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>What an answer tells the session: a write's committed index (its JSON "index"), or a read's X-Applied-Index.</summary>
    public static long? IndexOf(HttpMethod method, int code, string body, long? appliedIndex)
    {
        if (method == HttpMethod.Get) return code is 200 or 404 ? appliedIndex : null;
        if (code != 200) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("index", out var i) && i.TryGetInt64(out var n) ? n : null;
        }
        catch (JsonException) { return null; }
    }
}

using System.Net;
using Akka.Configuration;

namespace DistSysActors.Node.Http;

/// <summary>
/// The distsys.http keys the HTTP host reads: where it listens, the bearer tokens that guard it (an empty token is
/// none; the environment variables DISTSYS_ADMIN_TOKEN and DISTSYS_KV_TOKEN set them when the configuration does not),
/// and how many requests one connection may send per second (0: no bound).
/// </summary>
public sealed record HttpSettings(IPAddress Bind, string? AdminToken, string? KvToken, int RequestsPerSecondPerConnection = 0)
{
    public const string AdminTokenVariable = "DISTSYS_ADMIN_TOKEN";
    public const string KvTokenVariable = "DISTSYS_KV_TOKEN";

    /// <summary>Bounds of every request, enforced before any endpoint runs (each answered with a JSON reason).</summary>
    public const int UrlBytesMax = 8 * 1024;
    public const int HeadersBytesMax = 32 * 1024;
    public const int HeaderCountMax = 64;
    /// <summary>No endpoint takes more than this many body bytes; each endpoint has a smaller bound of its own.</summary>
    public const long BodyBytesMax = 16L * 1024 * 1024;
    public const int ConnectionsMax = 4096;

    /// <summary>Tokens are 16 to 256 printable ASCII characters: a shorter one is too easy to guess.</summary>
    public const int TokenLengthMin = 16, TokenLengthMax = 256;

    public static HttpSettings Create(Config distsys)
    {
        var http = distsys.GetConfig("distsys.http") ?? throw new ConfigurationException("distsys.http is missing");
        var bindText = http.GetString("bind", "127.0.0.1");
        if (!IPAddress.TryParse(bindText, out var bind))
            throw new ConfigurationException($"distsys.http.bind = '{bindText}' is not an IP address (e.g. 127.0.0.1, 0.0.0.0 or one address of this host)");
        return new HttpSettings(bind,
            Token(http.GetString("admin-token", ""), Environment.GetEnvironmentVariable(AdminTokenVariable), "distsys.http.admin-token", AdminTokenVariable),
            Token(http.GetString("kv-token", ""), Environment.GetEnvironmentVariable(KvTokenVariable), "distsys.http.kv-token", KvTokenVariable),
            Actors.Configuration.ConfigReader.Int(http, "distsys.http", "requests-per-second-per-connection", 0, 1_000_000));
    }

    private static string? Token(string? configured, string? environment, string key, string variable)
    {
        var (token, from) = !string.IsNullOrEmpty(configured) ? (configured, key) : (environment, variable);
        if (string.IsNullOrEmpty(token)) return null;
        if (token.Length is < TokenLengthMin or > TokenLengthMax || token.Any(c => c is <= ' ' or > '~'))
            throw new ConfigurationException($"{from} must be {TokenLengthMin} to {TokenLengthMax} printable ASCII characters without spaces");
        return token;
    }
}

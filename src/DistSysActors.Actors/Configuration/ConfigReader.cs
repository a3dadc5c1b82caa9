using Akka.Configuration;

namespace DistSysActors.Actors.Configuration;

/// <summary>Reads one settings value and fails fast with the key's full name when it is missing or out of range.</summary>
public static class ConfigReader
{
    public static int Int(Config config, string section, string key, int min, int max)
    {
        var value = Read(config, section, key, c => c.GetInt(key), "an integer");
        if (value < min || value > max) throw Bad(section, key, $"{value} is outside {min}..{max}");
        return value;
    }

    public static long Long(Config config, string section, string key, long min, long max)
    {
        var value = Read(config, section, key, c => c.GetLong(key), "an integer");
        if (value < min || value > max) throw Bad(section, key, $"{value} is outside {min}..{max}");
        return value;
    }

    public static double Double(Config config, string section, string key, double min, double max)
    {
        var value = Read(config, section, key, c => c.GetDouble(key), "a number");
        if (!(value >= min && value <= max)) throw Bad(section, key, $"{value} is outside {min}..{max}");
        return value;
    }

    public static bool Bool(Config config, string section, string key) => Read(config, section, key, c => c.GetBoolean(key), "on or off");

    public static string String(Config config, string section, string key, params string[] allowed)
    {
        var value = Read(config, section, key, c => c.GetString(key), "a string");
        if (string.IsNullOrWhiteSpace(value)) throw Bad(section, key, "must not be empty");
        if (allowed.Length > 0 && !allowed.Contains(value))
            throw Bad(section, key, $"'{value}' is not one of {string.Join(", ", allowed)}");
        return value;
    }

    /// <summary>Reads one value; a value of the wrong kind fails naming the key, the value as written and what was expected.</summary>
    private static T Read<T>(Config config, string section, string key, Func<Config, T> read, string expected)
    {
        if (!config.HasPath(key)) throw Bad(section, key, "is missing");
        try { return read(config); }
        catch (Exception) { throw Bad(section, key, $"= '{Raw(config, key)}' is not {expected}"); }
    }

    /// <summary>The value as written, for error messages (empty when it is not a simple value).</summary>
    private static string Raw(Config config, string key)
    {
        try { return config.GetString(key) ?? ""; }
        catch (Exception) { return ""; }
    }

    private static ConfigurationException Bad(string section, string key, string problem) =>
        new($"{section}.{key} {problem}");
}

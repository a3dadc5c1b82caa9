using DistSysActors.Node.Local;

namespace DistSysActors.Node.Commands;

/// <summary>Command lines printed for the user to paste into a POSIX shell, from any folder.</summary>
public static class ShellCommand
{
    private const string Plain = "-_./=:,+@%";

    /// <summary>
    /// One word for a POSIX shell: as is when it holds only letters, digits and <c>-_./=:,+@%</c>, else in single quotes
    /// (a quote inside becomes <c>'\''</c>). <paramref name="always"/> quotes it anyway (paths, so they read as paths).
    /// </summary>
    public static string Quote(string word, bool always = false) =>
        !always && word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || Plain.Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''") + "'";

    /// <summary>
    /// This program and <paramref name="args"/> as one line: the program by its absolute path (or <c>dotnet</c> and the
    /// dll's absolute path), so it runs from any folder without `distsys` on the PATH; paths quoted.
    /// </summary>
    public static string Self(IEnumerable<string> args)
    {
        var (file, prefix) = LocalCluster.SelfCommand();
        var words = new List<string> { Quote(file, always: Path.IsPathRooted(file)) };
        words.AddRange(prefix.Select(p => Quote(p, always: true)));
        string? previous = null;
        foreach (var a in args)
        {
            words.Add(Quote(a, always: previous == "--data-dir"));
            previous = a;
        }
        return string.Join(' ', words);
    }
}

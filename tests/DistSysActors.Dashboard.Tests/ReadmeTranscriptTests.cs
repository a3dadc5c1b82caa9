using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DistSysActors.Dashboard.Tests;

/// <summary>
/// The README's transcripts and commands table against the real program, so drift is caught: every plain
/// <c>$ curl -s</c> line of the README (no pipe, no headers, no shell substitution) is run as written against the shared
/// cluster (ports 8081-8083 moved to its ports) and must print what the README shows, numbers aside; every option the
/// commands table names must appear in that command's <c>--help</c>.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed partial class ReadmeTranscriptTests(LocalClusterFixture cluster, ITestOutputHelper output)
{
    [GeneratedRegex(@"^\$ (curl -s (?:-X[A-Z]+ )?localhost:808([1-3])/\S+(?: -d (?:'[^']*'|\S+))?)\s*$")]
    private static partial Regex PlainCurl();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex(@"^\| `distsys ([^`]+)`")]
    private static partial Regex CommandRow();

    [GeneratedRegex(@"--[a-z][a-z-]*")]
    private static partial Regex OptionName();

    public static string Readme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DistSysActors.sln"))) return File.ReadAllText(Path.Combine(dir.FullName, "README.md"));
        throw new InvalidOperationException("README.md not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task Every_plain_curl_transcript_of_the_readme_prints_what_the_readme_shows_numbers_aside()
    {
        await cluster.AwaitWholeAsync();
        var lines = Readme().Split('\n');
        var replayed = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            if (PlainCurl().Match(lines[i]) is not { Success: true } m) continue;
            var expected = lines.Skip(i + 1).TakeWhile(l => !l.StartsWith("$ ", StringComparison.Ordinal) && !l.StartsWith("```", StringComparison.Ordinal));
            var command = m.Groups[1].Value.Replace($"localhost:808{m.Groups[2].Value}", $"localhost:{cluster.Local.HttpBasePort + int.Parse(m.Groups[2].Value)}");
            var actual = await ShellAsync(command);
            output.WriteLine($"$ {command}\n{actual}");
            Assert.True(Digits().Replace(string.Join('\n', expected).Trim(), "N") == Digits().Replace(actual.Trim(), "N"),
                $"README line {i + 1}: `{m.Groups[1].Value}` shows\n{string.Join('\n', expected)}\nbut prints\n{actual}");
            replayed++;
        }
        Assert.True(replayed >= 5, $"replayed {replayed} transcript lines; the README's key-value transcript has at least 5");
    }

    [Fact]
    public async Task Every_option_the_commands_table_names_is_in_that_commands_help()
    {
        var rows = Readme().Split('\n').Select(l => CommandRow().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        Assert.True(rows.Count >= 10, $"the commands table has {rows.Count} rows");
        foreach (var row in rows)
        {
            // "paxos propose NAME VALUE \| get NAME \| duel NAME [--between A B]": alternatives of the last command word.
            // "[--nodes 3 \| --endpoints URL]" are alternatives of an option: those stay in their segment.
            var segments = row.Split(" \\| ").Aggregate(new List<string>(), (acc, part) =>
            {
                if (acc.Count > 0 && !Regex.IsMatch(part, "^[a-z]+ ")) acc[^1] += " | " + part;
                else acc.Add(part);
                return acc;
            });
            var path = CommandPath(segments[0]);
            for (var i = 0; i < segments.Count; i++)
            {
                List<string> segmentPath = i == 0 ? path : [.. path.Take(path.Count - 1), segments[i].Split(' ')[0]];
                var help = await RunAsync([.. segmentPath, "--help"]);
                foreach (var option in OptionName().Matches(segments[i]).Select(o => o.Value).Distinct())
                    Assert.True(help.Contains(option, StringComparison.Ordinal), $"README names `distsys {string.Join(' ', segmentPath)} ... {option}`, which its --help does not list:\n{help}");
            }
        }
    }

    /// <summary>The command's words: lowercase words up to the first placeholder or option; "list\|add" names subcommands: the first.</summary>
    private static List<string> CommandPath(string segment)
    {
        var path = new List<string>();
        foreach (var word in segment.Split(' '))
        {
            if (word.Contains("\\|")) { path.Add(word.Split("\\|")[0]); break; }
            if (!Regex.IsMatch(word, "^[a-z]+$")) break;
            path.Add(word);
        }
        return path;
    }

    private static async Task<string> ShellAsync(string command) => await RunAsync(["-c", command], "/bin/sh");

    private static async Task<string> RunAsync(string[] args, string? file = null)
    {
        var info = new ProcessStartInfo(file ?? LocalLauncherProcess.Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(LocalLauncherProcess.Scaled(TimeSpan.FromSeconds(60)));
        await p.WaitForExitAsync(cancel.Token);
        return await stdout + await stderr;
    }
}

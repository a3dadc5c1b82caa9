using System.Diagnostics;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Local;
using DistSysActors.Node.Tests.Processes;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>The command lines `distsys` prints for the user to paste: absolute, quoted, and the same words after a shell has read them.</summary>
public class ShellCommandTests
{
    [Theory]
    [InlineData("node", "node")]
    [InlineData("--data-dir", "--data-dir")]
    [InlineData("distsys.ping.interval-ms=200", "distsys.ping.interval-ms=200")]
    [InlineData("/tmp/a b", "'/tmp/a b'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("", "''")]
    [InlineData("$HOME", "'$HOME'")]
    public void Quote_leaves_plain_words_and_single_quotes_the_rest(string word, string expected) =>
        Assert.Equal(expected, ShellCommand.Quote(word));

    [Fact]
    public async Task A_shell_reads_back_the_very_words_quoted()
    {
        string[] words = ["/tmp/with space/data", "it's", "$HOME", "a\"b", "back\\slash", "*", "--data-dir", ""];
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("printf '%s\\n' " + string.Join(' ', words.Select(w => ShellCommand.Quote(w))));
        using var sh = Process.Start(info)!;
        var output = await sh.StandardOutput.ReadToEndAsync();
        await sh.WaitForExitAsync();
        Assert.Equal(words, output.Split('\n')[..^1]);
    }

    [Fact]
    public void Local_makes_a_relative_data_dir_absolute_and_its_restart_command_names_the_program_by_its_path()
    {
        var cluster = new LocalCluster(3, 4050, 8080, "data", ["--set", "distsys.ping.interval-ms=200"]);
        var absolute = Path.GetFullPath("data");
        Assert.Equal(absolute, cluster.DataDir);
        Assert.Equal(["node", "--id", "2", "--nodes", "3", "--base-port", "4050", "--http-base-port", "8080", "--data-dir", absolute,
            "--set", "distsys.ping.interval-ms=200"], cluster.NodeArgs(2));
        var (program, prefix) = LocalCluster.SelfCommand();
        Assert.True(Path.IsPathRooted(program), program);
        Assert.Equal(
            string.Join(' ', new[] { $"'{program}'" }.Concat(prefix.Select(p => $"'{p}'"))) +
            $" node --id 2 --nodes 3 --base-port 4050 --http-base-port 8080 --data-dir '{absolute}' --set distsys.ping.interval-ms=200",
            cluster.RestartCommand(2));
    }
}

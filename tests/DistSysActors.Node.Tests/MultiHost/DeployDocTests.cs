using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.MultiHost;

/// <summary>
/// docs/deploy.md's Kubernetes manifest and systemd unit are checked, not just shown: the YAML parses (with Python's yaml
/// where it is installed, and a structural check always), the probes point at /health/live and /health/ready on the
/// HTTP port the node is told to use, and the unit passes `systemd-analyze verify` where systemd is installed.
/// </summary>
public sealed partial class DeployDocTests(ITestOutputHelper output)
{
    private static string Doc => File.ReadAllText(Path.Combine(RepoRoot(), "docs", "deploy.md"));

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DistSysActors.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("DistSysActors.sln not found above the test's folder");
    }

    private static string Block(string language) =>
        Regex.Match(Doc, $"```{language}\\n(.*?)```", RegexOptions.Singleline) is { Success: true } m ? m.Groups[1].Value
            : throw new Xunit.Sdk.XunitException($"docs/deploy.md has no ```{language} block");

    [GeneratedRegex(@"^(\s*)path: (\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex ProbePath();

    [Fact]
    public void The_kubernetes_manifest_is_valid_yaml_with_probes_on_health_live_and_ready()
    {
        var yaml = Block("yaml");
        Assert.DoesNotContain('\t', yaml);
        var documents = yaml.Split("\n---\n");
        Assert.Equal(2, documents.Length);
        Assert.Contains("kind: Service", documents[0]);
        Assert.Contains("clusterIP: None", documents[0]);
        Assert.Contains("kind: StatefulSet", documents[1]);
        Assert.Contains("serviceName: distsys", documents[1]);
        // Each probe asks its own endpoint on the named port http, which is the node's --http-port.
        Assert.Matches(@"livenessProbe:\n\s+httpGet:\n\s+path: /health/live\n\s+port: http\n", documents[1]);
        Assert.Matches(@"readinessProbe:\n\s+httpGet:\n\s+path: /health/ready\n\s+port: http\n", documents[1]);
        Assert.Matches(@"- name: http\n\s+containerPort: 8081\n", documents[1]);
        Assert.Contains("--http-port 8081", documents[1]);
        Assert.Contains("--http-bind 0.0.0.0", documents[1]);
        Assert.Equal(["/health/live", "/health/ready"], ProbePath().Matches(documents[1]).Select(m => m.Groups[2].Value).ToArray());
        // Indentation is in steps of two spaces, as YAML written by hand should be.
        Assert.All(yaml.Split('\n').Where(l => l.Trim().Length > 0), l => Assert.Equal(0, (l.Length - l.TrimStart(' ').Length) % 2));

        if (Run("python3", "-c \"import yaml\"", null).Code != 0)
        {
            output.WriteLine("python3 with yaml is not installed here: the manifest is checked structurally only");
            return;
        }
        var (code, text) = Run("python3", "-c \"import sys, yaml; docs = list(yaml.safe_load_all(sys.stdin)); " +
            "s = docs[1]['spec']['template']['spec']['containers'][0]; " +
            "print(docs[0]['kind'], docs[1]['kind'], s['livenessProbe']['httpGet']['path'], s['readinessProbe']['httpGet']['path'], docs[1]['spec']['replicas'])\"", yaml);
        output.WriteLine(text);
        Assert.Equal(0, code);
        Assert.Equal("Service StatefulSet /health/live /health/ready 3", text.Trim());
    }

    [Fact]
    public void The_systemd_unit_passes_systemd_analyze_verify()
    {
        var unit = Block("ini");
        Assert.Contains("[Unit]", unit);
        Assert.Contains("[Service]", unit);
        Assert.Contains("[Install]", unit);
        Assert.Matches(@"\nExecStart=/opt/distsys/distsys node --id \$\{NODE_ID\} ", unit);
        Assert.Contains("KillSignal=SIGTERM", unit);
        Assert.DoesNotContain(unit.Split('\n'), l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('[') && !l.Contains('='));
        if (Run("systemd-analyze", "--version", null).Code != 0)
        {
            output.WriteLine("systemd-analyze is not installed here: the unit is checked structurally only");
            return;
        }
        // verify needs the program to exist: point ExecStart at this build's distsys, and the environment file at an empty one.
        var dir = Directory.CreateTempSubdirectory("distsys-unit-");
        try
        {
            var env = Path.Combine(dir.FullName, "distsys.env");
            File.WriteAllText(env, "NODE_ID=1\nNODE_ADDRESS=127.0.0.1\n");
            var path = Path.Combine(dir.FullName, "distsys.service");
            File.WriteAllText(path, unit.Replace("/opt/distsys/distsys", Processes.ProcessCluster.Executable).Replace("/etc/distsys/distsys.env", env));
            var (code, text) = Run("systemd-analyze", $"verify {path}", null);
            output.WriteLine($"systemd-analyze verify: exit {code}\n{text}");
            Assert.True(code == 0, $"systemd-analyze verify failed:\n{text}");
            Assert.DoesNotContain("distsys.service:", text);
        }
        finally { dir.Delete(recursive: true); }
    }

    private static (int Code, string Output) Run(string file, string args, string? stdin)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            })!;
            p.StandardInput.Write(stdin ?? "");
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(60_000)) { p.Kill(); return (-1, "timed out"); }
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, e.Message); }
    }
}

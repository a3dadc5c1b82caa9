using System.Diagnostics;

namespace DistSysActors.Node.Tests.MultiHost;

/// <summary>
/// Linux network namespaces standing in for separate hosts: namespace I gets address 10.213.S.I/24 on one end of a veth
/// pair whose other end is on a bridge; the bridge itself has 10.213.S.254, so the test (in the root namespace) reaches
/// every "host". Everything created here (namespaces, veth pairs, the bridge) is removed by <see cref="Dispose"/>, also
/// after a failure. <see cref="TryCreate"/> says why when it cannot be done (no privilege, no `ip`).
/// </summary>
public sealed class NetworkNamespaces : IDisposable
{
    private readonly List<string> _namespaces = new();
    private readonly string _tag;
    private readonly int _subnet;
    private bool _bridgeMade;

    private NetworkNamespaces(int hosts)
    {
        Hosts = hosts;
        var random = Random.Shared.Next(1, 250);
        _subnet = random;
        _tag = $"ds{Environment.ProcessId % 10000}{random}";
    }

    public int Hosts { get; }
    public string Bridge => $"{_tag}br";
    public string NamespaceOf(int host) => $"{_tag}-{host}";
    public string AddressOf(int host) => $"10.213.{_subnet}.{host}";
    /// <summary>The root namespace's address on the bridge: where the test's requests come from.</summary>
    public string HostAddress => AddressOf(254);
    public string Subnet => $"10.213.{_subnet}.0/24";

    /// <summary>Creates <paramref name="hosts"/> namespaces on one bridge; null and the reason when this machine does not allow it.</summary>
    public static (NetworkNamespaces? Namespaces, string? Reason) TryCreate(int hosts)
    {
        if (!OperatingSystem.IsLinux()) return (null, "network namespaces are Linux only");
        if (Run("ip", "-V").Code != 0) return (null, "the `ip` command (iproute2) is not installed");
        var n = new NetworkNamespaces(hosts);
        try
        {
            var made = Run("ip", $"link add {n.Bridge} type bridge");
            if (made.Code != 0) { n.Dispose(); return (null, $"cannot create a bridge (needs root or CAP_NET_ADMIN): {made.Output.Trim()}"); }
            n._bridgeMade = true;
            n.Must("ip", $"addr add {n.HostAddress}/24 dev {n.Bridge}");
            n.Must("ip", $"link set {n.Bridge} up");
            for (var i = 1; i <= hosts; i++)
            {
                var ns = n.NamespaceOf(i);
                var add = Run("ip", $"netns add {ns}");
                if (add.Code != 0) { n.Dispose(); return (null, $"cannot create a network namespace: {add.Output.Trim()}"); }
                n._namespaces.Add(ns);
                var (outside, inside) = ($"{n._tag}v{i}", $"{n._tag}p{i}");
                n.Must("ip", $"link add {outside} type veth peer name {inside}");
                n.Must("ip", $"link set {outside} master {n.Bridge}");
                n.Must("ip", $"link set {outside} up");
                n.Must("ip", $"link set {inside} netns {ns}");
                n.Must("ip", $"-n {ns} addr add {n.AddressOf(i)}/24 dev {inside}");
                n.Must("ip", $"-n {ns} link set {inside} up");
                n.Must("ip", $"-n {ns} link set lo up");
            }
            return (n, null);
        }
        catch
        {
            n.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="command"/> inside namespace <paramref name="host"/> (e.g. iptables), failing the test when it fails.</summary>
    public string Exec(int host, string command, string args) => Must("ip", $"netns exec {NamespaceOf(host)} {command} {args}");

    /// <summary>Whether <paramref name="command"/> can run inside a namespace (e.g. iptables is installed and works there).</summary>
    public (bool Ok, string Output) TryExec(int host, string command, string args)
    {
        var (code, output) = Run("ip", $"netns exec {NamespaceOf(host)} {command} {args}");
        return (code == 0, output);
    }

    private string Must(string file, string args)
    {
        var (code, output) = Run(file, args);
        if (code != 0) throw new InvalidOperationException($"`{file} {args}` failed ({code}): {output}");
        return output;
    }

    private static (int Code, string Output) Run(string file, string args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(30_000)) { p.Kill(); return (-1, $"`{file} {args}` did not finish in 30 s"); }
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, e.Message); }
    }

    public void Dispose()
    {
        // Deleting a namespace deletes the veth end inside it, and with it the end on the bridge.
        foreach (var ns in _namespaces) Run("ip", $"netns del {ns}");
        _namespaces.Clear();
        if (_bridgeMade) Run("ip", $"link del {Bridge}");
        _bridgeMade = false;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace DistSysActors.Node.Tests.Persistence;

/// <summary>
/// A throwaway PostgreSQL server for one test: initdb into a temporary directory, started on a free loopback port, trust
/// authentication for the user <c>distsys</c>, stopped (immediate) and deleted by <see cref="Dispose"/>. As root it runs as
/// the <c>postgres</c> user (PostgreSQL refuses to run as root). <see cref="TryStart"/> says why when it cannot.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string _bin;
    private readonly bool _asPostgresUser;
    private bool _started;

    private PostgresServer(string bin, bool asPostgresUser, string dataDir, int port)
    {
        (_bin, _asPostgresUser, DataDir, Port) = (bin, asPostgresUser, dataDir, port);
    }

    public string DataDir { get; }
    public int Port { get; }
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Database=postgres;Username=distsys;Pooling=true";

    /// <summary>Finds PostgreSQL's binaries (Debian's postgresql package, or initdb/pg_ctl on the PATH).</summary>
    private static string? FindBin()
    {
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).OrderDescending().FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
        if (debian is not null) return debian;
        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    public static (PostgresServer? Server, string? Reason) TryStart()
    {
        if (!OperatingSystem.IsLinux()) return (null, "the PostgreSQL fixture runs on Linux only");
        if (FindBin() is not { } bin) return (null, "PostgreSQL is not installed (no initdb; Debian: apt-get install -y postgresql)");
        var root = Environment.UserName == "root";
        if (root && Run("id", "-u postgres").Code != 0) return (null, "running as root, and there is no postgres user to run the server as");
        var dir = Path.Combine(Path.GetTempPath(), $"distsys-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var server = new PostgresServer(bin, root, dir, FreePort());
        try
        {
            if (root && Run("chown", $"postgres: {dir}") is { Code: not 0 } chown) { server.Dispose(); return (null, $"cannot hand {dir} to postgres: {chown.Output}"); }
            if (server.Pg("initdb", $"-D {dir} -A trust -U distsys -E UTF8 --no-sync") is { Code: not 0 } init)
            {
                server.Dispose();
                return (null, $"initdb failed: {init.Output.Trim()}");
            }
            var start = server.Pg("pg_ctl", $"-D {dir} -l {dir}/server.log -w -t 120 -o \"-p {server.Port} -k {dir} -c listen_addresses=127.0.0.1\" start");
            server._started = true;
            if (start.Code != 0)
            {
                var log = File.Exists($"{dir}/server.log") ? File.ReadAllText($"{dir}/server.log") : "";
                server.Dispose();
                throw new InvalidOperationException($"PostgreSQL is installed but did not start: {start.Output}\n{log}");
            }
            return (server, null);
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private (int Code, string Output) Pg(string tool, string args) =>
        _asPostgresUser ? Run("runuser", $"-u postgres -- {Path.Combine(_bin, tool)} {args}") : Run(Path.Combine(_bin, tool), args);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (int Code, string Output) Run(string file, string args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(180_000)) { p.Kill(); return (-1, $"`{file} {args}` did not finish in 180 s"); }
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, e.Message); }
    }

    public void Dispose()
    {
        if (_started) Pg("pg_ctl", $"-D {DataDir} -m immediate -w stop");
        _started = false;
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace DistSysActors.Benchmarks;

/// <summary>
/// Per-write latency of one small event made durable at a time, each awaited before the next, for several journal
/// targets (<see cref="JournalTargets.Help"/>). Targets take turns run by run, so a change in the machine's load hits
/// them all alike. Every write starts on a thread-pool thread (Task.Run), as a journal actor's would: on a loaded
/// machine a thread that stays busy waits longer for a core after each fsync than a fresh pool worker, which made a raw
/// commit looped on one thread look slower than the same commit behind Akka.Persistence.Sql. Run: <c>dotnet run -c Release --project src/DistSysActors.Benchmarks -- journal-latency</c>
/// (docs/benchmarks.md).
/// </summary>
public static class JournalLatency
{
    private const string Usage = """
        journal-latency [--targets "a;b;..."] [--writes N] [--runs R] [--warmup W] [--dir PATH] [--pause-us U] [--timed]
          --targets   targets to compare, separated by ';' (default raw;memory;sqlite)
          --writes    writes per target per run (default 1000)
          --runs      runs; each run writes to every target in turn (default 5)
          --warmup    writes per target before measuring (default 300)
          --dir       where the database files go (default a new folder under the system temp dir, deleted after)
          --pause-us  idle time between writes, not counted, in microseconds (default 0: back to back)
          --timed     also report the time spent inside the journal plugin's WriteMessagesAsync
        targets:
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var targets = new List<string> { "raw", "memory", "sqlite" };
        int writes = 1000, runs = 5, warmup = 300, pauseUs = 0;
        string? dir = null;
        var timed = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--targets": targets = Next().Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(); break;
                case "--writes": writes = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--dir": dir = Next(); break;
                case "--pause-us": pauseUs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--timed": timed = true; break;
                default:
                    Console.Error.WriteLine(Usage);
                    Console.Error.WriteLine(JournalTargets.Help);
                    return 2;
            }
        }
        var ownDir = dir is null;
        dir ??= Path.Combine(Path.GetTempPath(), "distsys-journal-bench-" + Guid.NewGuid().ToString("N"));
        Console.WriteLine($"// journal-latency: {writes} writes x {runs} runs per target, warm-up {warmup}, pause {pauseUs} us, 32-byte events, files under {dir}");
        Console.WriteLine($"// SQLite {SqliteVersion()}, .NET {Environment.Version}, {Environment.ProcessorCount} cores; load average at start: {LoadAverage()}");
        Console.WriteLine($"// a WAL connection opened without pragmas (as Akka.Persistence.Sql opens them) has synchronous = {DefaultSynchronous(dir)} (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA)");

        var created = new List<IJournalTarget>();
        try
        {
            foreach (var spec in targets) created.Add(await JournalTargets.CreateAsync(spec, dir, timed));
            foreach (var target in created)
                for (var w = 0; w < warmup; w++) await Task.Run(target.WriteAsync);
            foreach (var target in created) target.PluginTicks?.Clear();

            var samples = created.ToDictionary(t => t.Name, _ => new List<double>(writes * runs));
            var runMedians = created.ToDictionary(t => t.Name, _ => new List<double>(runs));
            // Process CPU time (all threads, user + system) while each target writes: what a write costs the machine.
            var cpu = created.ToDictionary(t => t.Name, _ => TimeSpan.Zero);
            var process = Process.GetCurrentProcess();
            for (var run = 0; run < runs; run++)
            {
                foreach (var target in created)
                {
                    var times = new double[writes];
                    process.Refresh();
                    var cpuBefore = process.TotalProcessorTime;
                    for (var w = 0; w < writes; w++)
                    {
                        var start = Stopwatch.GetTimestamp();
                        await Task.Run(target.WriteAsync);
                        times[w] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        if (pauseUs > 0) Pause(pauseUs);
                    }
                    process.Refresh();
                    cpu[target.Name] += process.TotalProcessorTime - cpuBefore;
                    samples[target.Name].AddRange(times);
                    runMedians[target.Name].Add(Percentile(times, 50));
                }
                Console.WriteLine($"// run {run + 1}/{runs} done, load average {LoadAverage()}");
            }

            Console.WriteLine();
            Console.WriteLine("| target | writes | p50 ms | p90 ms | p99 ms | max ms | CPU ms per write | run medians ms | inside plugin p50 / p99 ms |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var target in created)
            {
                var all = samples[target.Name].ToArray();
                var plugin = target.PluginTicks is { IsEmpty: false } ticks
                    ? ticks.Select(t => t * 1000.0 / Stopwatch.Frequency).ToArray()
                    : null;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {target.Name} | {all.Length} | {Percentile(all, 50):F3} | {Percentile(all, 90):F3} | {Percentile(all, 99):F3} | {all.Max():F3} | " +
                    $"{cpu[target.Name].TotalMilliseconds / all.Length:F3} | " +
                    $"{string.Join(" / ", runMedians[target.Name].Select(m => m.ToString("F2", CultureInfo.InvariantCulture)))} | " +
                    $"{(plugin is null ? "" : $"{Percentile(plugin, 50):F3} / {Percentile(plugin, 99):F3}")} |"));
            }
            Console.WriteLine();
            Console.WriteLine($"// load average at end: {LoadAverage()}");
            return 0;
        }
        finally
        {
            foreach (var target in created) await target.DisposeAsync();
            SqliteConnection.ClearAllPools();
            if (ownDir)
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    // Spins rather than sleeps: a sleep on a loaded machine lasts milliseconds, whatever was asked.
    private static void Pause(int microseconds)
    {
        var until = Stopwatch.GetTimestamp() + microseconds * Stopwatch.Frequency / 1_000_000;
        while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
    }

    public static double Percentile(double[] values, double percent)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var rank = percent / 100.0 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    private static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
        catch (UnauthorizedAccessException) { return "n/a"; }
    }

    private static long DefaultSynchronous(string directory)
    {
        Directory.CreateDirectory(directory);
        var database = Path.Combine(directory, "synchronous-probe.db");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString();
        using (var setup = new SqliteConnection(connectionString))
        {
            setup.Open();
            JournalTargets.Execute(setup, "PRAGMA journal_mode=WAL;");
        }
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous";
        return (long)command.ExecuteScalar()!;
    }

    private static string SqliteVersion()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sqlite_version()";
        return (string)command.ExecuteScalar()!;
    }
}

using System.Diagnostics;
using System.Globalization;

namespace DistSysActors.Node.Http;

/// <summary>This process's memory for /status: resident set now and at its peak (Linux VmRSS/VmHWM), and the managed heap.</summary>
public sealed record ProcessDto(long RssBytes, long PeakRssBytes, long GcHeapBytes)
{
    public static ProcessDto Read()
    {
        var gcHeap = GC.GetTotalMemory(forceFullCollection: false);
        if (OperatingSystem.IsLinux() && ReadProcStatus() is { } linux) return linux with { GcHeapBytes = gcHeap };
        using var self = Process.GetCurrentProcess();
        return new ProcessDto(self.WorkingSet64, self.PeakWorkingSet64, gcHeap);
    }

    /// <summary>VmRSS and VmHWM ("high water mark") from /proc/self/status, in kB there.</summary>
    private static ProcessDto? ReadProcStatus()
    {
        long? rss = null, peak = null;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line);
            }
        }
        catch (IOException) { return null; }
        return rss is { } r && peak is { } p ? new ProcessDto(r, p, 0) : null;
    }

    private static long? Kilobytes(string line)
    {
        var parts = line.Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
    }
}

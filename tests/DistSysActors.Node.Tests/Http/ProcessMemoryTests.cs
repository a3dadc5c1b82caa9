using DistSysActors.Node.Http;

namespace DistSysActors.Node.Tests.Http;

public class ProcessMemoryTests
{
    [Fact]
    public void Reports_the_resident_set_its_peak_and_the_managed_heap()
    {
        var ballast = new byte[64 << 20];
        Array.Fill(ballast, (byte)1); // touched, so it is resident
        var memory = ProcessDto.Read();
        GC.KeepAlive(ballast);
        Assert.InRange(memory.RssBytes, 64L << 20, long.MaxValue);
        Assert.InRange(memory.PeakRssBytes, memory.RssBytes, long.MaxValue);
        Assert.InRange(memory.GcHeapBytes, 64L << 20, long.MaxValue);
    }
}

namespace DistSysActors.Actors.Tests.Clocks;

/// <summary>A scripted host clock shared by several node clocks: it stands still until a test advances it.</summary>
public sealed class ManualHostClock(long startMs)
{
    private long _nowMs = startMs;

    public long NowMs() => Interlocked.Read(ref _nowMs);

    public void Advance(long ms) => Interlocked.Add(ref _nowMs, ms);
}

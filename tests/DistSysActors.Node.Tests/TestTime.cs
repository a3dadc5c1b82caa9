using DistSysActors.Actors.Configuration;

namespace DistSysActors.Node.Tests;

/// <summary>
/// Time windows of tests that run outside the Akka TestKit, stretched by the same factor as TestKit waits
/// (<c>akka.test.timefactor</c>, from the <c>AKKA_TEST_TIMEFACTOR</c> environment variable), so a loaded machine
/// waits longer instead of failing.
/// </summary>
internal static class TestTime
{
    public static double Factor { get; } = DistSysConfig.TestTimeFactor;

    public static TimeSpan Scaled(TimeSpan window) => window * Factor;
}

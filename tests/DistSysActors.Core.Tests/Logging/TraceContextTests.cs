using DistSysActors.Core.Logging;

namespace DistSysActors.Core.Tests.Logging;

/// <summary>W3C Trace Context, section 3.2 (traceparent): accept a valid header, refuse anything else so a new trace starts.</summary>
public class TraceContextTests
{
    private const string Valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public void Traceparent_Valid_RoundTrips()
    {
        var trace = TraceContext.TryParse(Valid)!;
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", trace.TraceId);
        Assert.Equal("00f067aa0ba902b7", trace.SpanId);
        Assert.Equal(1, trace.Flags);
        Assert.Equal(Valid, trace.TraceParent);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")] // unknown version
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")] // all-zero trace id
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")] // all-zero parent id
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")] // upper case is invalid
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01")] // short trace id
    public void Traceparent_Invalid_IsRefused(string? header) => Assert.Null(TraceContext.TryParse(header));

    [Fact]
    public void NewTrace_IsValidAndSeeded()
    {
        var a = TraceContext.NewTrace(new DeterministicRandom(7));
        var b = TraceContext.NewTrace(new DeterministicRandom(7));
        Assert.Equal(a, b);
        Assert.Equal(a, TraceContext.TryParse(a.TraceParent));
        var child = a.NewSpan(new DeterministicRandom(8));
        Assert.Equal(a.TraceId, child.TraceId);
        Assert.NotEqual(a.SpanId, child.SpanId);
    }

    [Fact]
    public void Bytes_RoundTrip()
    {
        var trace = TraceContext.TryParse(Valid)!;
        var (traceId, spanId) = trace.ToBytes();
        Assert.Equal(trace, TraceContext.FromBytes(traceId, spanId, trace.Flags));
    }
}

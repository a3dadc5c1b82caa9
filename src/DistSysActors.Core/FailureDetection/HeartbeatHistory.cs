using System.Collections.Immutable;

namespace DistSysActors.Core.FailureDetection;

/// <summary>
/// The bounded window of heartbeat inter-arrival times behind a phi-accrual detector, with running
/// sums so mean and variance cost O(1). Immutable: <see cref="Add"/> returns a new history.
/// </summary>
public sealed class HeartbeatHistory
{
    /// <summary>Bounds the sums: IntervalMsMax² × MaxSampleSizeMax stays far below long.MaxValue.</summary>
    public const long IntervalMsMax = 3_600_000;
    public const int MaxSampleSizeMax = 10_000;

    private readonly ImmutableQueue<long> _intervalsMs;

    private HeartbeatHistory(int maxSampleSize, ImmutableQueue<long> intervalsMs, int count, long intervalSumMs, long squaredIntervalSum)
    {
        MaxSampleSize = maxSampleSize;
        _intervalsMs = intervalsMs;
        Count = count;
        IntervalSumMs = intervalSumMs;
        SquaredIntervalSum = squaredIntervalSum;
    }

    /// <summary>An empty history; its statistics are undefined until the first interval is added.</summary>
    public static HeartbeatHistory Empty(int maxSampleSize)
    {
        if (maxSampleSize < 1 || maxSampleSize > MaxSampleSizeMax)
            throw new ArgumentOutOfRangeException(nameof(maxSampleSize), $"maxSampleSize must be within 1..{MaxSampleSizeMax}, was {maxSampleSize}");
        return new HeartbeatHistory(maxSampleSize, ImmutableQueue<long>.Empty, 0, 0, 0);
    }

    public int MaxSampleSize { get; }
    public int Count { get; }
    public long IntervalSumMs { get; }
    public long SquaredIntervalSum { get; }
    public IEnumerable<long> IntervalsMs => _intervalsMs;

    public double MeanMs => (double)IntervalSumMs / Count;

    /// <summary>Population variance from the running sums (E[x²] − E[x]²), the estimator Akka uses.</summary>
    public double Variance => (double)SquaredIntervalSum / Count - MeanMs * MeanMs;

    /// <summary>Never NaN: rounding can push a near-zero variance below zero.</summary>
    public double StdDeviationMs => Math.Sqrt(Math.Max(0.0, Variance));

    /// <summary>Appends one inter-arrival time, evicting the oldest once the window is full.</summary>
    public HeartbeatHistory Add(long intervalMs)
    {
        if (intervalMs < 0 || intervalMs > IntervalMsMax)
            throw new ArgumentOutOfRangeException(nameof(intervalMs), $"intervalMs must be within 0..{IntervalMsMax}, was {intervalMs}");
        var queue = _intervalsMs;
        var count = Count;
        var sum = IntervalSumMs;
        var squares = SquaredIntervalSum;
        if (count >= MaxSampleSize)
        {
            queue = queue.Dequeue(out var oldest);
            count--;
            sum -= oldest;
            squares -= oldest * oldest;
        }
        return new HeartbeatHistory(MaxSampleSize, queue.Enqueue(intervalMs), count + 1, sum + intervalMs, squares + intervalMs * intervalMs);
    }
}

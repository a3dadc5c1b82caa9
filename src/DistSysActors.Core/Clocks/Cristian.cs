using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Clocks;

/// <summary>Messages of Cristian's time request/response.</summary>
public abstract record CristianMessage(NodeId From) : IWireSerialized;

public sealed record CristianTimeRequest(NodeId From, long RequestId) : CristianMessage(From);

/// <summary>The server's clock reading <paramref name="ServerTimeMs"/> when it answered.</summary>
public sealed record CristianTimeResponse(NodeId From, long RequestId, long ServerTimeMs) : CristianMessage(From);

/// <summary>
/// Cristian's estimate (Cristian 1989, "Probabilistic clock synchronization"): when a reply carrying server
/// time T arrives after a round trip RTT, the server's clock reads about T + RTT/2, with error at most
/// RTT/2 − min, where min is the known minimum one-way delay. All times in milliseconds; sent and
/// received on the client's clock.
/// </summary>
public readonly record struct CristianEstimate(long RequestSentMs, long ResponseReceivedMs, long ServerTimeMs, long MinDelayMs)
{
    public long RoundTripMs => ResponseReceivedMs - RequestSentMs;

    /// <summary>The server's clock at the moment the response was received.</summary>
    public double ServerNowMs => ServerTimeMs + RoundTripMs / 2.0;

    /// <summary>Server clock minus client clock: add it to the client clock to agree with the server.</summary>
    public double OffsetMs => ServerNowMs - ResponseReceivedMs;

    /// <summary>The worst-case error of <see cref="ServerNowMs"/> and <see cref="OffsetMs"/>.</summary>
    public double ErrorBoundMs => Math.Max(RoundTripMs / 2.0 - MinDelayMs, 0);
}

public static class CristianServer
{
    public static Outgoing<CristianMessage> Respond(NodeId self, CristianTimeRequest request, long nowMs) =>
        new(request.From, new CristianTimeResponse(self, request.RequestId, nowMs));
}

/// <summary>Settings of a <see cref="CristianClient"/>.</summary>
public sealed record CristianClientSettings
{
    /// <summary>The known minimum one-way delay, which tightens the error bound.</summary>
    public long MinDelayMs { get; init; }

    /// <summary>Replies slower than this are discarded: their error bound is too wide to be worth using.</summary>
    public long RoundTripMsMax { get; init; } = 1_000;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MinDelayMs < 0) errors.Add($"minDelayMs must not be negative, was {MinDelayMs}");
        if (RoundTripMsMax < 1) errors.Add($"roundTripMsMax must be positive, was {RoundTripMsMax}");
        return errors;
    }
}

/// <summary>
/// A Cristian client core: one outstanding request at a time against one server. Keeps the latest estimate
/// and the tightest one (Cristian's refinement: retry and keep the fastest round trip). The host passes its
/// clock reading and applies an estimate with <c>clock.Adjust(estimate.OffsetMs, rawNowMs)</c> if it wishes.
/// </summary>
public sealed class CristianClient
{
    private readonly List<Outgoing<CristianMessage>> _outbox = [];
    private (long RequestId, long SentMs)? _pending;
    private long _nextRequestId = 1;

    public CristianClient(NodeId self, NodeId server, CristianClientSettings? settings = null)
    {
        Settings = settings ?? new CristianClientSettings();
        var errors = Settings.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(settings));
        Self = self;
        Server = server;
    }

    public NodeId Self { get; }
    public NodeId Server { get; }
    public CristianClientSettings Settings { get; }
    public CristianEstimate? Last { get; private set; }
    public CristianEstimate? Tightest { get; private set; }
    public long ResponsesDiscarded { get; private set; }

    /// <summary>Sends a request at <paramref name="nowMs"/>, abandoning any unanswered one.</summary>
    public void Request(long nowMs)
    {
        var id = _nextRequestId++;
        _pending = (id, nowMs);
        _outbox.Add(new Outgoing<CristianMessage>(Server, new CristianTimeRequest(Self, id)));
    }

    /// <summary>The reply to the outstanding request, received at <paramref name="nowMs"/>; null if it is stale, duplicated or too slow.</summary>
    public CristianEstimate? Handle(CristianTimeResponse response, long nowMs)
    {
        if (response.From != Server || _pending is not { } p || p.RequestId != response.RequestId || nowMs < p.SentMs)
        {
            ResponsesDiscarded++;
            return null;
        }
        _pending = null;
        var estimate = new CristianEstimate(p.SentMs, nowMs, response.ServerTimeMs, Settings.MinDelayMs);
        if (estimate.RoundTripMs > Settings.RoundTripMsMax)
        {
            ResponsesDiscarded++;
            return null;
        }
        Last = estimate;
        if (Tightest is not { } t || estimate.ErrorBoundMs <= t.ErrorBoundMs) Tightest = estimate;
        return estimate;
    }

    public IReadOnlyList<Outgoing<CristianMessage>> TakeOutbox()
    {
        var taken = _outbox.ToArray();
        _outbox.Clear();
        return taken;
    }
}

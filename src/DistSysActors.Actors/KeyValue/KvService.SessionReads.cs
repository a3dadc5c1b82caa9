using Akka.Actor;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Actors.KeyValue;

/// <summary>
/// Reads served from this replica's own applied state with a client-session guarantee (Terry et al., "Session
/// Guarantees for Weakly Consistent Replicated Data", 1994): read-your-writes and monotonic reads wait until this replica
/// has applied the client's min-index, up to distsys.kv.session-wait-ms, then answer <see cref="Behind"/> rather than an
/// older value; bounded-staleness reads are served only while this replica's lag is within their bound.
/// </summary>
public sealed partial class KvService
{
    // Session reads waiting for their min-index to be applied here, oldest first; _sessionReadsMinIndex is the lowest
    // min-index among them (long.MaxValue when none wait), so an apply checks them only when one can be served.
    private readonly List<PendingSessionRead> _sessionReads = [];
    private long _sessionReadsMinIndex = long.MaxValue;

    private sealed record PendingSessionRead(Get Request, IActorRef Client, DateTime Deadline);

    private sealed record SessionSweep
    {
        public static readonly SessionSweep Instance = new();
    }

    /// <summary>How often waiting session reads are checked for their deadline: a tenth of the wait, within 10-100 ms.</summary>
    private static TimeSpan SessionSweepInterval(KvSettings settings) =>
        TimeSpan.FromMilliseconds(Math.Clamp(settings.SessionWaitMs / 10, 10, 100));

    private void OnSessionRead(Get get, IActorRef client)
    {
        if (get.Consistency == Consistency.Bounded)
        {
            var lag = _log.LagMs;
            if (lag is { } ms && ms <= get.MaxLagMs) client.Tell(new ReadResult(_store.Get(get.Key), _store.AppliedIndex));
            else
                client.Tell(new Behind(_store.AppliedIndex, lag, lag is null
                    ? "this replica's lag is unknown (it hears from no leader)"
                    : $"this replica is {lag} ms behind, more than max-lag-ms {get.MaxLagMs}"));
            return;
        }
        if (_store.AppliedIndex >= get.MinIndex)
        {
            client.Tell(new ReadResult(_store.Get(get.Key), _store.AppliedIndex));
            return;
        }
        if (_settings.SessionWaitMs == 0)
        {
            client.Tell(BehindOf(get));
            return;
        }
        if (PendingWrites + _reads.Count + _sessionReads.Count >= _settings.PendingRequestsMax)
        {
            client.Tell(new Unavailable("overloaded: too many requests pending", Unknown: false));
            return;
        }
        _sessionReads.Add(new PendingSessionRead(get, client, DateTime.UtcNow.AddMilliseconds(_settings.SessionWaitMs)));
        _sessionReadsMinIndex = Math.Min(_sessionReadsMinIndex, get.MinIndex);
    }

    private Behind BehindOf(Get get) =>
        new(_store.AppliedIndex, _log.LagMs, $"this replica has applied index {_store.AppliedIndex}, not yet min-index {get.MinIndex}");

    /// <summary>Serves every waiting session read whose min-index is applied now.</summary>
    private void ReleaseSessionReads()
    {
        if (_sessionReads.Count == 0 || _store.AppliedIndex < _sessionReadsMinIndex) return;
        var applied = _store.AppliedIndex;
        _sessionReads.RemoveAll(r =>
        {
            if (r.Request.MinIndex > applied) return false;
            r.Client.Tell(new ReadResult(_store.Get(r.Request.Key), applied));
            return true;
        });
        RecomputeSessionReadsMinIndex();
    }

    /// <summary>Answers Behind to every waiting session read whose wait is over.</summary>
    private void ExpireSessionReads(DateTime now)
    {
        if (_sessionReads.Count == 0) return;
        _sessionReads.RemoveAll(r =>
        {
            if (r.Deadline > now) return false;
            r.Client.Tell(BehindOf(r.Request));
            return true;
        });
        RecomputeSessionReadsMinIndex();
    }

    private void RecomputeSessionReadsMinIndex()
    {
        var min = long.MaxValue;
        foreach (var r in _sessionReads) min = Math.Min(min, r.Request.MinIndex);
        _sessionReadsMinIndex = min;
    }
}

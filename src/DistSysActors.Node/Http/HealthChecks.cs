using Akka.Actor;
using Akka.Cluster;
using DistSysActors.Actors.FailureDetection;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Network;
using DistSysActors.Core.FailureDetection;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Http;

/// <summary>
/// <c>/health/live</c>, <c>/health/ready</c> and the <c>failureDetector</c> object of <c>/status</c>. Each health
/// answer names every check and its result ("ok ..." or "failed: ..."); 200 when all pass, 503 otherwise.
/// </summary>
public static class HealthChecks
{
    /// <summary>JSON has no infinity: phi beyond this (the largest configurable threshold) is shown as this.</summary>
    public const double PhiShownMax = PhiAccrualSettings.ThresholdMax;

    /// <summary>Liveness: the actor system answers an actor round trip within the request timeout, not just "the HTTP server answers".</summary>
    public static async Task<IResult> LiveAsync(NodeHost host, TimeSpan timeout)
    {
        var checks = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (host.Runtime is not { } runtime)
        {
            // Brief while the host replaces a downed system; a probe's failureThreshold rides it out.
            checks["actorSystem"] = "failed: the actor system is restarting (downed by the cluster)";
            return Answer("live", "not live", checks);
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await runtime.Network.Ask<NetworkProtocol.NetworkStatus>(NetworkProtocol.GetStatus.Instance, timeout);
            checks["actorSystem"] = $"ok ({watch.ElapsedMilliseconds} ms round trip)";
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            checks["actorSystem"] = $"failed: the network actor did not answer within {timeout.TotalMilliseconds:0} ms";
        }
        return Answer("live", "not live", checks);
    }

    /// <summary>
    /// Readiness: this node is an Up member, its failure detector sees a majority of the N configured nodes
    /// reachable (itself included) — of the Raft voters instead, once Raft knows its membership, since servers may have
    /// been added and removed — and the protocols report ready (Raft: a leader is known).
    /// </summary>
    public static async Task<IResult> ReadyAsync(NodeHost host, TimeSpan timeout)
    {
        var checks = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (host.Runtime is not { } runtime)
        {
            checks["member"] = "failed: the actor system is restarting";
            return Answer("ready", "not ready", checks);
        }
        var self = Cluster.Get(runtime.System).SelfMember.Status;
        checks["member"] = self == MemberStatus.Up ? "ok" : $"failed: this node's member status is {self}, not Up";
        var asks = new ModuleAsks(runtime, timeout);
        foreach (var api in NodeModuleApis.All)
        {
            if (asks.IsRunning(api.ModuleName)) await api.AddReadinessChecksAsync(asks, checks);
            else api.AddReadinessChecksWhenOff(checks);
        }
        return Answer("ready", "not ready", checks);
    }

    private static IResult Answer(string pass, string fail, SortedDictionary<string, string> checks)
    {
        var ok = checks.Values.All(v => !v.StartsWith("failed", StringComparison.Ordinal));
        return Results.Json(new HealthDto(ok ? pass : fail, checks), statusCode: ok ? 200 : 503);
    }
}

/// <summary>A health answer: overall status and each check's result.</summary>
public sealed record HealthDto(string Status, IReadOnlyDictionary<string, string> Checks);

/// <summary>
/// <c>/status</c> failureDetector: this node's detector per monitored peer, with Akka.Cluster's view of the same peer.
/// <c>ReachableCount</c> counts this node, each monitored peer our detector finds available and has heard a heartbeat
/// answer from since this actor system started (a fresh detector finds every peer available before it has heard from
/// any: it has nothing to suspect yet), and each peer it does not monitor (fewer than N - 1 when monitored-by is
/// smaller) that Akka.Cluster finds reachable.
/// </summary>
public sealed record FailureDetectorDto(
    string Detector, long HeartbeatIntervalMs, int ReachableCount, IReadOnlyList<FailureDetectorPeerDto> Peers,
    long HeartbeatsSent, long MessagesReceived, long Suspicions)
{
    public static FailureDetectorDto From(HeartbeatProtocol.DetectorStatus status, DistSysNodeRuntime runtime)
    {
        var state = Cluster.Get(runtime.System).State;
        var akkaReachable = new SortedSet<int>(state.Members
            .Where(m => !state.Unreachable.Contains(m))
            .Select(NodeHttpApi.NodeIdOf).OfType<int>());
        var peers = status.Peers.Select(p => new FailureDetectorPeerDto(
            p.NodeId.Value,
            // + 0.0 turns the -0 that phi's formula gives far from suspicion into 0.
            p.Phi is { } phi ? Math.Round(Math.Min(phi, HealthChecks.PhiShownMax), 3) + 0.0 : null,
            p.LastHeartbeatAgeMs, p.Available, akkaReachable.Contains(p.NodeId.Value), p.Monitoring, p.HeardFrom)).ToList();
        var monitored = peers.Select(p => p.NodeId).ToHashSet();
        var reachable = 1 + peers.Count(p => p.Reachable)
                          + Enumerable.Range(1, runtime.Node.Nodes).Count(i => i != runtime.Node.Id && !monitored.Contains(i) && akkaReachable.Contains(i));
        return new FailureDetectorDto(status.Detector, status.HeartbeatIntervalMs, reachable, peers, status.HeartbeatsSent, status.MessagesReceived, status.Suspicions);
    }

    /// <summary>
    /// How many of <paramref name="ids"/> are reachable: this node, monitored peers our detector finds available and has
    /// heard from (<see cref="FailureDetectorPeerDto.Reachable"/>), others Akka.Cluster finds reachable.
    /// </summary>
    public static int ReachableAmong(IEnumerable<int> ids, FailureDetectorDto fd, DistSysNodeRuntime runtime)
    {
        var state = Cluster.Get(runtime.System).State;
        var akkaReachable = state.Members.Where(m => m.Status == MemberStatus.Up && !state.Unreachable.Contains(m))
            .Select(NodeHttpApi.NodeIdOf).OfType<int>().ToHashSet();
        var monitored = fd.Peers.ToDictionary(p => p.NodeId);
        return ids.Count(id => id == runtime.Node.Id || (monitored.TryGetValue(id, out var p) ? p.Reachable : akkaReachable.Contains(id)));
    }
}

/// <summary>
/// One monitored peer: <c>Phi</c> (null for the fixed detector; capped at <see cref="HealthChecks.PhiShownMax"/>),
/// <c>Available</c> (our verdict), <c>AkkaReachable</c> (Akka.Cluster: member present and not unreachable),
/// <c>Monitoring</c> (a first heartbeat arrived, or expected-response-after passed), <c>HeardFrom</c> (a heartbeat
/// answer from the peer arrived since this actor system started).
/// </summary>
public sealed record FailureDetectorPeerDto(int NodeId, double? Phi, long? LastHeartbeatAgeMs, bool Available, bool AkkaReachable, bool Monitoring,
    bool HeardFrom = false)
{
    /// <summary>What readiness counts: available, and observed, not only assumed.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Reachable => Available && HeardFrom;
}

using Akka.Actor;
using Akka.Cluster;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Ping;
using DistSysActors.Actors.Raft;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DistSysActors.Node.Http;

/// <summary>The HTTP contract every node serves (DESIGN.md section 6), bound to loopback only.</summary>
public static class NodeHttpApi
{
    public static WebApplication Build(NodeHost host)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Parse(host.Node.Hostname), host.Node.HttpPortOf(host.Node.Id)));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.WriteIndented = false);
        var app = builder.Build();
        var timeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs);

        app.MapGet("/health/live", () => HealthChecks.LiveAsync(host, timeout));

        app.MapGet("/health/ready", () => HealthChecks.ReadyAsync(host, timeout));

        app.MapGet("/status", async () =>
        {
            if (host.Runtime is not { } runtime) return Results.Json(new ErrorDto("unavailable", "the actor system is restarting"), statusCode: 503);
            try { return Results.Json(await StatusAsync(host, runtime, timeout)); }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return Results.Json(new ErrorDto("timeout", "the node's actors did not answer in time"), statusCode: 503);
            }
        });

        app.MapPost("/admin/faults", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var (spec, error) = FaultSpecJson.Parse(await reader.ReadToEndAsync(), host.Node.Nodes);
            if (spec is null) return Results.Json(new ErrorDto(error!), statusCode: 400);
            return await ApplyAsync(host, spec, timeout);
        });

        app.MapDelete("/admin/faults", () => ApplyAsync(host, Core.Network.FaultSpec.None, timeout));

        KvHttpApi.Map(app, host);
        AdminHttpApi.Map(app, host);
        app.MapFallback(() => Results.Json(new ErrorDto("not found"), statusCode: 404));
        return app;
    }

    private static async Task<IResult> ApplyAsync(NodeHost host, Core.Network.FaultSpec spec, TimeSpan timeout)
    {
        try
        {
            return await host.ApplyFaultsAsync(spec, timeout) switch
            {
                NetworkProtocol.FaultsApplied applied => Results.Json(FaultSpecDto.From(applied.Spec)),
                NetworkProtocol.FaultsRejected rejected => Results.Json(new ErrorDto(string.Join("; ", rejected.Errors)), statusCode: 400),
                var other => Results.Json(new ErrorDto($"unexpected answer {other.GetType().Name}"), statusCode: 500),
            };
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
        {
            return Results.Json(new ErrorDto("unavailable", e.Message), statusCode: 503);
        }
    }

    private static async Task<StatusDto> StatusAsync(NodeHost host, DistSysNodeRuntime runtime, TimeSpan timeout)
    {
        var network = runtime.Network.Ask<NetworkProtocol.NetworkStatus>(NetworkProtocol.GetStatus.Instance, timeout);
        var ping = runtime.Ping.Ask<PingProtocol.Stats>(PingProtocol.GetStats.Instance, timeout);
        var incarnation = runtime.Incarnation.Ask<IncarnationActor.Incarnation>(IncarnationActor.GetIncarnation.Instance, timeout);
        var raft = runtime.Raft?.Ask<RaftProtocol.NodeStatus>(RaftProtocol.GetStatus.Instance, timeout);
        var heartbeat = runtime.Heartbeat?.Ask<Actors.FailureDetection.HeartbeatProtocol.DetectorStatus>(Actors.FailureDetection.HeartbeatProtocol.GetStatus.Instance, timeout);
        var clock = runtime.ClockService?.Ask<ClockProtocol.ClockStatus>(ClockProtocol.GetStatus.Instance, timeout);
        var cluster = Cluster.Get(runtime.System);
        var state = cluster.State;
        var members = state.Members
            .Select(m => new MemberDto(NodeIdOf(m), m.Address.ToString(), m.Status.ToString(), !state.Unreachable.Contains(m)))
            .OrderBy(m => m.NodeId ?? int.MaxValue).ThenBy(m => m.Address, StringComparer.Ordinal)
            .ToList();
        var n = await network;
        var c = n.Sent;
        return new StatusDto(
            runtime.Node.Id, cluster.SelfAddress.ToString(), runtime.Node.Nodes, (await incarnation).Number, host.Restarts,
            cluster.SelfMember.Status.ToString(), members,
            new NetworkDto(FaultSpecDto.From(n.Spec), n.Seed, new NetworkCountersDto(
                c.Sent, c.Delivered, c.DroppedByPartition, c.Dropped, c.Delayed, c.Duplicated,
                n.ReceivedDelivered, n.ReceivedDroppedByPartition, n.Unroutable, n.OverflowDropped, n.DelayedNow)),
            (await ping).Peers.Select(p => new PingPeerDto(p.Key.Value, p.Value.PingsSent, p.Value.PingsReceived,
                p.Value.PongsReceived, p.Value.LastRttMs, p.Value.LastPongAgeMs)).ToList(),
            raft is null ? null : (await raft).Raft is var r
                ? new RaftDto(r.Role.ToString(), r.Term, r.LeaderId?.Value, r.CommitIndex, r.AppliedIndex, r.LastLogIndex,
                    r.SnapshotIndex, r.SnapshotIndex + 1,
                    r.Membership?.Voters.Select(v => v.Value).ToArray() ?? [], r.Membership?.Learners.Select(l => l.Value).ToArray() ?? [],
                    (await raft).Group)
                : null,
            heartbeat is null ? null : FailureDetectorDto.From(await heartbeat, runtime),
            clock is null ? null : ClockDtos.From(await clock),
            ProcessDto.Read());
    }

    /// <summary>A member's node id comes from its role <c>node-I</c>.</summary>
    public static int? NodeIdOf(Member member) =>
        member.Roles.Select(r => r.StartsWith("node-", StringComparison.Ordinal) && int.TryParse(r.AsSpan(5), out var id) ? id : (int?)null)
            .FirstOrDefault(id => id is not null);
}

using Akka.Actor;
using DistSysActors.Actors.Transactions;
using DistSysActors.Core;
using DistSysActors.Actors.Transactions.Replicated;
using DistSysActors.Core.Transactions;
using DistSysActors.Core.Transactions.Replicated;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Http;

/// <summary>
/// The transaction endpoints in replicated mode (README: Transactions, Replicated mode). <c>POST /txn</c> is the same
/// request to this node's replicated actor, which hands it to the coordinating group's leader. <c>GET /txn/{id}</c> and
/// <c>GET /txn/kv/{key}</c> answer from the node acting for the group (the coordinating group, the key's shard): here
/// when it is this node, else over HTTP from that group's leader. Both are linearizable: the acting node confirms its
/// leadership with a heartbeat round first (ReadIndex), and without a leader ready the answer is 503.
/// </summary>
public static class ReplicatedTxnHttpApi
{
    /// <summary>The replicated-mode actor when this node runs replicated mode, else null.</summary>
    public static IActorRef? Actor(NodeHost host) => host.Runtime?.Module(new ReplicatedTxnModule().Name);

    public static async Task<IResult> ViewAsync(NodeHost host, IActorRef actor, TxnId id, TimeSpan timeout)
    {
        try
        {
            var view = await actor.Ask<ReplicatedTxnActor.ReplView>(new TxnLocal.GetView(id), timeout);
            if (!view.Acting) return await ElsewhereAsync(host, view.Leader, $"/txn/{id}", "the coordinating group", timeout);
            return view.Txn is null ? Results.Json(new ErrorDto($"transaction {id} is unknown"), statusCode: 404) : Results.Json(ReplTxnViewDto.From(view.Txn));
        }
        catch (AskTimeoutException) { return Results.Json(new { error = "the transaction actor did not answer in time", outcome = "unknown" }, statusCode: 503); }
    }

    public static async Task<IResult> ReadKeyAsync(NodeHost host, IActorRef actor, string key, TimeSpan timeout)
    {
        try
        {
            var answer = await actor.Ask<ReplicatedTxnActor.ReplKeyValue>(new TxnLocal.ReadKey(key), timeout);
            if (!answer.Acting) return await ElsewhereAsync(host, answer.Leader, $"/txn/kv/{Uri.EscapeDataString(key)}", $"the shard of key {key}", timeout);
            return answer.Value is { } value ? Results.Text(value, "text/plain; charset=utf-8") : Results.Json(new ErrorDto($"key {key} has no committed value"), statusCode: 404);
        }
        catch (AskTimeoutException) { return Results.Json(new { error = "the transaction actor did not answer in time", outcome = "unknown" }, statusCode: 503); }
    }

    /// <summary>
    /// A read this node does not act for: asked of the group's leader when another node leads it, else 503 (no leader
    /// known, or this node was just elected and has not caught up with the group's log).
    /// </summary>
    private static async Task<IResult> ElsewhereAsync(NodeHost host, NodeId? leader, string path, string group, TimeSpan timeout)
    {
        if (leader is { } l && l.Value != host.Node.Id) return await TxnHttpApi.ProxyAsync(host, l.Value, path, timeout);
        return Results.Json(new ErrorDto($"{group} has no leader ready to read from; retry"), statusCode: 503);
    }

    /// <summary><c>/status.txn</c> in replicated mode, or null when this node does not run it.</summary>
    public static async Task<object?> StatusAsync(ModuleAsks asks)
    {
        if (await asks.AskAsync<ReplicatedTxnActor.ReplStatus>(new ReplicatedTxnModule().Name, ReplicatedTxnActor.GetReplStatus.Instance) is not { } s) return null;
        var groups = s.Groups.Select(g => new ReplTxnGroupDto(g.Name, TxnGroups.ShardNumber(g.Group), g.LeaderId?.Value, g.Term, g.AppliedIndex, g.Acting,
            [.. g.InDoubt.Select(InDoubt)])).ToList();
        var inDoubt = s.Groups.Where(g => g.Acting).SelectMany(g => g.InDoubt).Select(InDoubt).ToList();
        return new ReplTxnStatusDto(TxnSettings.Replicated, inDoubt, s.LocksHeld, s.Running, groups);
    }

    private static TxnInDoubtDto InDoubt(Txn.InDoubt d) => new(d.Id.ToString(), TxnNames.Of(d.Protocol), TxnNames.Of(d.State), d.AgeMs, d.Locks);
}

public sealed record ReplTxnParticipantDto(int Shard, string State);

/// <summary><c>GET /txn/{id}</c> in replicated mode: the coordinating group's view, participants named by shard.</summary>
public sealed record ReplTxnViewDto(
    string Id, string Protocol, string State, IReadOnlyList<ReplTxnParticipantDto> Participants,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Reason = null)
{
    public static ReplTxnViewDto From(Txn.TxnView v) =>
        new(v.Id.ToString(), TxnNames.Of(v.Protocol), TxnNames.Of(v.State),
            [.. v.Participants.Select(p => new ReplTxnParticipantDto(TxnGroups.ShardNumber(p.Participant) ?? 0, TxnNames.Of(p.State)))], v.Reason);
}

/// <summary>
/// <c>/status.txn</c> in replicated mode: the in-doubt transactions of the shards this node acts for (with their age and
/// locks), their locks, the coordinating group's running transactions if it acts for it, and every group as it sees it.
/// </summary>
public sealed record ReplTxnStatusDto(string Mode, IReadOnlyList<TxnInDoubtDto> InDoubt, int LocksHeld, int Running, IReadOnlyList<ReplTxnGroupDto> Groups);

/// <summary>One group on this node: its name (coordinator, shard-N), shard number, leader, term, applied index, whether this node acts for it, its in-doubt transactions here.</summary>
public sealed record ReplTxnGroupDto(string Name, int? Shard, int? Leader, long Term, long AppliedIndex, bool Acting, IReadOnlyList<TxnInDoubtDto> InDoubt);

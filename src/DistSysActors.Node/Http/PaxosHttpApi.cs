using DistSysActors.Actors.LogPipeline;
using Akka.Actor;
using DistSysActors.Actors.Modules;
using DistSysActors.Actors.Paxos;
using DistSysActors.Core.Paxos;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Http;

/// <summary>
/// Basic Paxos write-once registers (README: Paxos): <c>PUT /paxos/{name}</c> proposes the body for the register and
/// answers the value chosen (perhaps another proposer's) with the ballot; <c>GET /paxos/{name}</c> answers the chosen
/// value, from this node's learner or, when it knows none, from a read round (404 only when nothing is chosen).
/// </summary>
public static class PaxosHttpApi
{
    public static void Map(WebApplication app, NodeHost host)
    {
        var timeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs);

        app.MapPut("/paxos/{name}", async (string name, HttpContext http) =>
        {
            if (Role(host, RegisterPaxos.Role.Proposer) is not { } proposer) return Unavailable();
            var (value, error) = await KvHttpApi.ReadValueAsync(http.Request, RegisterPaxos.ValueBytesMax);
            if (error is not null) return error;
            if (RegisterRoleActor.Invalid(name, value) is { } invalid) return Results.Json(new ErrorDto(invalid), statusCode: 400);
            // A register is written once: when this node's learner knows the chosen value, no round is needed.
            if (Role(host, RegisterPaxos.Role.Learner) is { } learner)
            {
                try
                {
                    if (await learner.Ask<PaxosProtocol.RegisterKnown>(new PaxosProtocol.GetRegister(name), timeout) is { Chosen: { } known })
                        return Results.Json(new PaxosChosenDto(known.Value, known.Ballot.ToString(), [$"{host.Runtime!.Self}: already learned '{known.Value}' chosen at {known.Ballot}"]));
                }
                catch (AskTimeoutException) { } // the proposer's round finds the value too
            }
            return await ProposeAsync(proposer, name, value, timeout, LogsHttpApi.TraceOf(http));
        });

        app.MapGet("/paxos/{name}", async (string name, HttpContext http) =>
        {
            if (Role(host, RegisterPaxos.Role.Learner) is not { } learner || Role(host, RegisterPaxos.Role.Proposer) is not { } proposer) return Unavailable();
            if (RegisterRoleActor.Invalid(name, null) is { } invalid) return Results.Json(new ErrorDto(invalid), statusCode: 400);
            try
            {
                if (await learner.Ask<PaxosProtocol.RegisterKnown>(new PaxosProtocol.GetRegister(name), timeout) is { Chosen: { } known })
                    return Results.Json(new PaxosChosenDto(known.Value, known.Ballot.ToString()));
            }
            catch (AskTimeoutException) { return Results.Json(new { error = "the learner did not answer in time", outcome = "unknown" }, statusCode: 503); }
            // This learner knows nothing: a read round finds the chosen value if there is one (and teaches the learners).
            return await ProposeAsync(proposer, name, null, timeout, LogsHttpApi.TraceOf(http));
        });
    }

    private static IActorRef? Role(NodeHost host, RegisterPaxos.Role role) => host.Runtime?.Module(new RegisterRoleModule(role).Name);

    private static async Task<IResult> ProposeAsync(IActorRef proposer, string name, string? value, TimeSpan timeout, Core.Logging.TraceContext? trace)
    {
        try
        {
            return await proposer.Ask<object>(TraceScope.Attach(new PaxosProtocol.ProposeRegister(name, value), trace), timeout) switch
            {
                RegisterPaxos.Outcome { Value: { } chosen } o => Results.Json(new PaxosChosenDto(chosen, o.Ballot.ToString(), o.Phases)),
                RegisterPaxos.Outcome o => Results.Json(new { error = $"nothing is chosen for register {name}", ballot = o.Ballot.ToString(), phases = o.Phases }, statusCode: 404),
                RegisterPaxos.NotDecided f => Results.Json(new { error = f.Reason, outcome = "unknown", phases = f.Phases }, statusCode: 503),
                PaxosProtocol.RegisterRefused r when r.Reason.StartsWith("overloaded", StringComparison.Ordinal) =>
                    Results.Json(new { error = r.Reason, outcome = "not-applied" }, statusCode: 503),
                PaxosProtocol.RegisterRefused r => Results.Json(new ErrorDto(r.Reason), statusCode: 400),
                var other => Results.Json(new { error = $"unexpected answer {other.GetType().Name}", outcome = "unknown" }, statusCode: 503),
            };
        }
        catch (AskTimeoutException)
        {
            return Results.Json(new { error = "no value was chosen in time", outcome = "unknown" }, statusCode: 503);
        }
    }

    private static IResult Unavailable() =>
        Results.Json(new { error = "the Paxos registers are not running on this node (distsys.paxos.enabled)", outcome = "not-applied" }, statusCode: 503);
}

/// <summary><c>PUT/GET /paxos/{name}</c>: the register's chosen value and the ballot it was seen chosen at ("round.node"); phases: the proposer's steps.</summary>
public sealed record PaxosChosenDto(
    string Chosen, string Ballot,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Phases = null);

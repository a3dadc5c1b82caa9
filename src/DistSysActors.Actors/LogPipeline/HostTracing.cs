using Akka.Actor;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// Which trace a protocol host works under while it handles a message: the message's own (<see cref="TraceScope.Of"/>),
/// logged as one step of the protocol; for the host's own follow-ups of that work — a batched flush, a journal write
/// completing — the trace of the message that caused them; for anything else (a tick, an untraced peer message) none.
/// A flush batching several requests runs under the last traced one.
/// </summary>
public sealed class HostTracing(string protocol)
{
    private TraceContext? _current;

    public TraceContext? Enter(object message, ActorSystem system)
    {
        if (TraceScope.Of(message) is { } trace)
        {
            _current = trace;
            NodeLog.Of(system)?.Write(Severity.Info, $"{protocol}: step {message.GetType().Name}", trace,
                NodeLog.Attributes((LogAttributes.Event, "step"), (LogAttributes.Protocol, protocol), (LogAttributes.MessageType, message.GetType().Name)));
        }
        else if (!IsFollowUp(message)) _current = null;
        return _current;
    }

    private static bool IsFollowUp(object message) =>
        message is ProtocolFlush || message.GetType().Namespace?.StartsWith("Akka.Persistence", StringComparison.Ordinal) == true;
}

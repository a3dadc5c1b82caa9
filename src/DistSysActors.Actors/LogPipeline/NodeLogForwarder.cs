using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// An Akka logger (listed in <c>akka.loggers</c>, hocon/node.conf) that feeds Akka's own log events into the node's
/// <see cref="NodeLog"/>, at or above distsys.logging.akka-min-severity, with the log source and class as attributes.
/// Events before the node's pipeline is installed (actor-system start) go only to the other loggers.
/// </summary>
public sealed class NodeLogForwarder : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public NodeLogForwarder()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(Forward);
    }

    private void Forward(LogEvent e)
    {
        if (NodeLog.Of(Context.System) is not { } log) return;
        var severity = e.LogLevel() switch
        {
            LogLevel.DebugLevel => Severity.Debug,
            LogLevel.InfoLevel => Severity.Info,
            LogLevel.WarningLevel => Severity.Warn,
            _ => Severity.Error,
        };
        if (severity < log.Settings.AkkaMinSeverity) return;
        var body = e.Cause is { } cause ? $"{e.Message}: {cause.GetType().Name}: {cause.Message}" : e.Message?.ToString() ?? "";
        log.Write(severity, body, attributes: NodeLog.Attributes(
            (LogAttributes.Source, "akka"), ("akka.log.source", e.LogSource ?? ""), ("akka.log.class", e.LogClass?.Name ?? "")),
            timestampMs: new DateTimeOffset(e.Timestamp, TimeSpan.Zero).ToUnixTimeMilliseconds() + (log.Clock?.InjectedOffsetMs() ?? 0));
    }
}

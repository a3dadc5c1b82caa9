using System.Collections.Immutable;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core.Logging;
using DistSysActors.Node.Hosting;
using Microsoft.Extensions.Logging;

namespace DistSysActors.Node.Http;

/// <summary>
/// Microsoft.Extensions.Logging in the node's HTTP host feeds the node's log pipeline (<see cref="NodeLog"/>): each
/// entry at or above <see cref="MinLevel"/> becomes a record with the category as an attribute. Entries while the actor
/// system restarts (no pipeline) are not recorded.
/// </summary>
public sealed class NodeLogLoggerProvider(NodeHost host) : ILoggerProvider
{
    public const LogLevel MinLevel = LogLevel.Warning;

    public ILogger CreateLogger(string categoryName) => new Logger(host, categoryName);

    public void Dispose() { }

    private sealed class Logger(NodeHost host, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= MinLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || host.Runtime is not { } runtime || NodeLog.Of(runtime.System) is not { } log) return;
            var severity = logLevel switch
            {
                LogLevel.Trace => Severity.Trace,
                LogLevel.Debug => Severity.Debug,
                LogLevel.Information => Severity.Info,
                LogLevel.Warning => Severity.Warn,
                LogLevel.Error => Severity.Error,
                _ => Severity.Fatal,
            };
            var body = exception is null ? formatter(state, exception) : $"{formatter(state, exception)}: {exception.GetType().Name}: {exception.Message}";
            log.Write(severity, body, attributes: ImmutableSortedDictionary<string, string>.Empty
                .Add(LogAttributes.Source, "host").Add("category", category));
        }
    }
}

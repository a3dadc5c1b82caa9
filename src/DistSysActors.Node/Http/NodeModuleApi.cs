using Akka.Actor;
using DistSysActors.Actors.Hosting;

namespace DistSysActors.Node.Http;

/// <summary>
/// A module's part of a node's HTTP surface: its field in <c>/status</c> and its <c>/health/ready</c> checks.
/// <see cref="NodeHttpApi"/> and <see cref="HealthChecks"/> iterate <see cref="NodeModuleApis.All"/>, so a new topic
/// adds one of these instead of editing them.
/// </summary>
public abstract class NodeModuleApi
{
    /// <summary>The <c>DistSysModule.Name</c> whose actor this part asks.</summary>
    public abstract string ModuleName { get; }

    /// <summary>The module's field in <c>/status</c> (null there when the module is not running).</summary>
    public abstract string StatusField { get; }

    /// <summary>The module's <c>/status</c> object, from its actor's status answer.</summary>
    public abstract Task<object?> StatusAsync(ModuleAsks asks);

    /// <summary>Adds the module's readiness checks ("ok ..." or "failed: ..."); none by default.</summary>
    public virtual Task AddReadinessChecksAsync(ModuleAsks asks, IDictionary<string, string> checks) => Task.CompletedTask;

    /// <summary>Readiness checks to show when the module is not running (e.g. "skipped"); none by default.</summary>
    public virtual void AddReadinessChecksWhenOff(IDictionary<string, string> checks) { }
}

/// <summary>
/// One request's questions to the node's module actors: each module is asked at most once per question type, so the
/// parts that read another module's status (readiness counts Raft's voters) cost no extra round trip.
/// </summary>
public sealed class ModuleAsks(DistSysNodeRuntime runtime, TimeSpan timeout)
{
    private readonly Dictionary<(string, Type), Task<object>> _asks = new();

    public DistSysNodeRuntime Runtime { get; } = runtime;
    public TimeSpan Timeout { get; } = timeout;

    public bool IsRunning(string module) => Runtime.Module(module) is not null;

    /// <summary>The answer of module <paramref name="module"/> to <paramref name="question"/>; null when the module is not running.</summary>
    public async Task<T?> AskAsync<T>(string module, object question) where T : class
    {
        if (Runtime.Module(module) is not { } actor) return null;
        Task<object> pending;
        lock (_asks)
        {
            if (!_asks.TryGetValue((module, typeof(T)), out pending!))
                _asks[(module, typeof(T))] = pending = actor.Ask<object>(question, Timeout);
        }
        return (T)await pending;
    }
}

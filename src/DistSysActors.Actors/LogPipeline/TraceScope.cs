using System.Runtime.CompilerServices;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// The trace a thread is working under. An actor handles one message at a time on one thread, so while it handles a
/// message that arrived under a trace, <see cref="Current"/> is that trace: every <see cref="NodeLog.Step"/> it writes
/// and every <see cref="Network.NetworkProtocol.Send"/> it makes carries it on. Messages carry their trace beside them
/// (<see cref="Attach"/>), not inside them, so no message type changes to be traced.
/// </summary>
public static class TraceScope
{
    [ThreadStatic] private static TraceContext? _current;

    // Keyed by the message object's identity: each delivered or asked message is a fresh object.
    private static readonly ConditionalWeakTable<object, TraceContext> Attached = new();

    /// <summary>The trace of the message being handled on this thread; null outside any trace.</summary>
    public static TraceContext? Current => _current;

    /// <summary>Marks <paramref name="message"/> as sent under <paramref name="trace"/> (before telling or asking it); returns the message.</summary>
    public static T Attach<T>(T message, TraceContext? trace) where T : class
    {
        if (trace is not null) Attached.AddOrUpdate(message, trace);
        return message;
    }

    /// <summary>The trace <paramref name="message"/> was attached to, if any.</summary>
    public static TraceContext? Of(object message) => Attached.TryGetValue(message, out var trace) ? trace : null;

    /// <summary>Runs <paramref name="handle"/> with <see cref="Current"/> = <paramref name="trace"/>, restoring the previous one after.</summary>
    public static TResult Within<TResult>(TraceContext? trace, Func<TResult> handle)
    {
        var previous = _current;
        _current = trace;
        try { return handle(); }
        finally { _current = previous; }
    }

    /// <summary>Sets <see cref="Current"/> until the returned scope is disposed.</summary>
    public static Scope Enter(TraceContext? trace)
    {
        var previous = _current;
        _current = trace;
        return new Scope(previous);
    }

    public readonly struct Scope(TraceContext? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }
}

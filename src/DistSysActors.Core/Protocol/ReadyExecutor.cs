namespace DistSysActors.Core.Protocol;

/// <summary>Where a host executes a Ready: the actor host and the simulator's node each implement it.</summary>
public interface IReadyEnvironment<TMessage>
{
    void Send(Outgoing<TMessage> outgoing);

    /// <summary>Makes <paramref name="writes"/> durable in order, then calls <paramref name="onDurable"/> (at once, or later for an asynchronous journal).</summary>
    void Persist(IReadOnlyList<object> writes, Action onDurable);

    void Apply(object entry);

    void Answer(object answer);
}

/// <summary>The one execution order of a Ready (see <see cref="IReady{TMessage}"/>), shared by every host.</summary>
public static class ReadyExecutor
{
    /// <summary>
    /// Executes <paramref name="ready"/> against <paramref name="environment"/>, then advances <paramref name="core"/>;
    /// <paramref name="onAdvanced"/> runs after Advance, synchronously unless the environment persists asynchronously.
    /// </summary>
    public static void Execute<TMessage, TReady>(IProtocolCore<TMessage, TReady> core, TReady ready, IReadyEnvironment<TMessage> environment, Action? onAdvanced = null)
        where TReady : class, IReady<TMessage>
    {
        // Indexed loops: enumerating an IReadOnlyList through the interface would allocate an enumerator per list.
        var before = ready.MessagesBeforePersist;
        for (var i = 0; i < before.Count; i++) environment.Send(before[i]);
        var writes = ready.Writes;
        if (writes.Count == 0) Finish(core, ready, environment, onAdvanced);
        else PersistThenFinish(core, ready, environment, writes, onAdvanced);
    }

    // Its own method so that only a Ready with writes allocates the continuation.
    private static void PersistThenFinish<TMessage, TReady>(IProtocolCore<TMessage, TReady> core, TReady ready, IReadyEnvironment<TMessage> environment,
        IReadOnlyList<object> writes, Action? onAdvanced)
        where TReady : class, IReady<TMessage> =>
        environment.Persist(writes, () => Finish(core, ready, environment, onAdvanced));

    private static void Finish<TMessage, TReady>(IProtocolCore<TMessage, TReady> core, TReady ready, IReadyEnvironment<TMessage> environment, Action? onAdvanced)
        where TReady : class, IReady<TMessage>
    {
        var after = ready.MessagesAfterPersist;
        for (var i = 0; i < after.Count; i++) environment.Send(after[i]);
        var applies = ready.Applies;
        for (var i = 0; i < applies.Count; i++) environment.Apply(applies[i]);
        var answers = ready.Answers;
        for (var i = 0; i < answers.Count; i++) environment.Answer(answers[i]);
        core.Advance(ready);
        onAdvanced?.Invoke();
    }

    /// <summary>
    /// Executes Readies until the core has none. Returns true when done; false when a write is still in flight, in
    /// which case draining resumes by itself once it is durable and <paramref name="onDrained"/> runs at the end.
    /// </summary>
    public static bool Drain<TMessage, TReady>(IProtocolCore<TMessage, TReady> core, IReadyEnvironment<TMessage> environment, Action? onDrained = null)
        where TReady : class, IReady<TMessage>
    {
        while (core.HasReady)
        {
            var inline = true;
            var advanced = false;
            Execute(core, core.TakeReady(), environment, () =>
            {
                advanced = true;
                // An asynchronous write finished after Drain returned: pick up where it stopped.
                if (!inline && Drain(core, environment, onDrained)) onDrained?.Invoke();
            });
            inline = false;
            if (!advanced) return false;
        }
        return true;
    }
}

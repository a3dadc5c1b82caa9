using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>An in-memory journal whose writes complete only while its gate is open: makes "persist before send" observable.</summary>
public sealed class GatedMemoryJournal : MemoryJournal
{
    private static volatile TaskCompletionSource _gate = Open();

    private static TaskCompletionSource Open()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tcs.SetResult();
        return tcs;
    }

    public static void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public static void Release() => _gate.TrySetResult();

    protected override async Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var batch = messages.ToList();
        await _gate.Task.WaitAsync(cancellationToken);
        return await base.WriteMessagesAsync(batch, cancellationToken);
    }
}

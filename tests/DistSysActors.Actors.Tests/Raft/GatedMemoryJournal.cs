using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>
/// An in-memory journal whose writes complete only while its gate is open: makes "persist before send" observable.
/// It also records, per persistence id, how far the journal was truncated and how many events the last recovery replayed.
/// </summary>
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

    private static readonly ConcurrentDictionary<string, long> DeletedToByPid = new();
    private static readonly ConcurrentDictionary<string, int> ReplayedByPid = new();

    public static long DeletedTo(string persistenceId) => DeletedToByPid.GetValueOrDefault(persistenceId);

    public static int Replayed(string persistenceId) => ReplayedByPid.GetValueOrDefault(persistenceId);

    protected override async Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken)
    {
        await base.DeleteMessagesToAsync(persistenceId, toSequenceNr, cancellationToken);
        DeletedToByPid.AddOrUpdate(persistenceId, toSequenceNr, (_, old) => Math.Max(old, toSequenceNr));
    }

    public override Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        ReplayedByPid[persistenceId] = 0;
        return base.ReplayMessagesAsync(context, persistenceId, fromSequenceNr, toSequenceNr, max, p =>
        {
            ReplayedByPid.AddOrUpdate(persistenceId, 1, (_, n) => n + 1);
            recoveryCallback(p);
        });
    }

    protected override async Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var batch = messages.ToList();
        await _gate.Task.WaitAsync(cancellationToken);
        return await base.WriteMessagesAsync(batch, cancellationToken);
    }
}

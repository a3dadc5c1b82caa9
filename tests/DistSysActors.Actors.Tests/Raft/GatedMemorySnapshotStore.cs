using Akka.Persistence;
using Akka.Persistence.Snapshot;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>An in-memory snapshot store whose saves complete only while its gate is open: makes "snapshot durable before send" observable.</summary>
public sealed class GatedMemorySnapshotStore : MemorySnapshotStore
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

    protected override async Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken)
    {
        await _gate.Task.WaitAsync(cancellationToken);
        await base.SaveAsync(metadata, snapshot, cancellationToken);
    }
}

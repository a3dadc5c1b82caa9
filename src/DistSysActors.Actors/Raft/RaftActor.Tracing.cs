using System.Runtime.CompilerServices;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core.Logging;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// Keeps a request's trace on its command across every hop of the log, whatever message happens to carry the work on:
/// a follower's hand-off of the command to the leader (<see cref="Propose"/>), the leader's entry, each follower's copy
/// and every node's apply. The core knows nothing of traces; the command's bytes are one object from the proposal to the
/// entry on each node, so the trace is kept beside them (by identity) and, once the entry is written, by its index.
/// </summary>
public sealed partial class RaftActor
{
    // Entries whose trace is remembered until they are applied; beyond this the oldest are forgotten (untraced, not lost).
    private const int TracedEntriesMax = 4096;

    private readonly ConditionalWeakTable<byte[], TraceContext> _commandTraces = new();
    private readonly SortedDictionary<long, TraceContext> _entryTraces = new();

    /// <summary>Steps a peer's message, first noting the trace it came under for each command it carries.</summary>
    private void StepTraced(RaftMessage message)
    {
        if (TraceScope.Current is { } trace)
            switch (message)
            {
                case Propose p:
                    NoteCommand(p.Data, trace);
                    break;
                case AppendEntries a:
                    foreach (var entry in a.Entries) NoteCommand(entry.Data, trace);
                    break;
            }
        StepCore(message);
    }

    private void NoteCommand(byte[] command, TraceContext? trace)
    {
        // Empty data (no-ops) may be one shared array: never tag it.
        if (trace is not null && command.Length > 0) _commandTraces.AddOrUpdate(command, trace);
    }

    private TraceContext? TraceOfCommand(byte[] command) => _commandTraces.TryGetValue(command, out var trace) ? trace : null;

    /// <summary>Entries about to be written: each remembers its command's trace by index, for its apply.</summary>
    private void NoteEntries(IReadOnlyList<LogEntry> entries)
    {
        foreach (var entry in entries)
            if (TraceOfCommand(entry.Data) is { } trace) _entryTraces[entry.Index] = trace;
            else _entryTraces.Remove(entry.Index); // a rewritten index loses the old entry's trace
        while (_entryTraces.Count > TracedEntriesMax) _entryTraces.Remove(_entryTraces.Keys.First());
    }

    /// <summary>The trace an entry is applied under: its command's, else whatever the host is handling.</summary>
    private TraceContext? TakeEntryTrace(long index) => _entryTraces.Remove(index, out var trace) ? trace : TraceScope.Current;

    /// <summary>Sends a command-carrying message under its command's trace (the latest traced entry of an AppendEntries).</summary>
    public override void Send(Outgoing<RaftMessage> outgoing)
    {
        var trace = outgoing.Message switch
        {
            Propose p => TraceOfCommand(p.Data),
            AppendEntries a => LastTraced(a),
            _ => null,
        };
        if (trace is null)
        {
            base.Send(outgoing);
            return;
        }
        using var scope = TraceScope.Enter(trace);
        base.Send(outgoing);
    }

    private TraceContext? LastTraced(AppendEntries a)
    {
        for (var i = a.Entries.Length - 1; i >= 0; i--)
            if (TraceOfCommand(a.Entries[i].Data) is { } trace) return trace;
        return null;
    }
}

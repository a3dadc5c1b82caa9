using System.Collections;
using System.Collections.Immutable;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Raft;

/// <summary>
/// The effects a node buffered since the last <see cref="RaftNode.Advance"/>. The host executes them in this order:
/// <list type="number">
/// <item>send <see cref="MessagesBeforePersist"/> (may overlap with step 2);</item>
/// <item>persist <see cref="Snapshot"/> (if not null: it replaces the whole stored log — delete every stored entry,
///   whatever its index; the node keeps none of them: a snapshot whose index and term its log holds is never handed
///   out, the node only commits through it), <see cref="HardState"/>
///   (if not null) and <see cref="Entries"/>: first delete every stored entry with index &gt;= Entries[0].Index, then
///   append Entries; make it durable;</item>
/// <item>send <see cref="Messages"/> (they promise what step 2 stored: votes, append acknowledgements);</item>
/// <item>restore the state machine from <see cref="Snapshot"/> (if not null), then apply <see cref="CommittedEntries"/> in order, then answer <see cref="ReadStates"/> from the state machine and fail <see cref="ReadsDropped"/>;</item>
/// <item>call <see cref="RaftNode.Advance"/> with this Ready.</item>
/// </list>
/// </summary>
/// <remarks>
/// <see cref="MessagesBeforePersist"/> holds only traffic that promises nothing about this node's disk: a leader's
/// AppendEntries, heartbeats, InstallSnapshot chunks and TimeoutNow (the leader counts itself toward a commit quorum
/// only after Advance acknowledges that its entries are durable, Raft dissertation 10.2.1), and heartbeat answers,
/// forwarded proposals and reads, ReadIndex answers, pre-vote grants and non-final snapshot acknowledgements.
/// While a Ready with a write is outstanding, <see cref="RaftNode.TakeReady"/> hands out only Readies without writes
/// (such traffic, committed entries and reads), which the host executes at once.
/// </remarks>
public sealed record Ready(
    HardState? HardState,
    ImmutableArray<LogEntry> Entries,
    ImmutableArray<RaftMessage> MessagesBeforePersist,
    ImmutableArray<RaftMessage> Messages,
    ImmutableArray<LogEntry> CommittedEntries,
    ImmutableArray<ReadState> ReadStates,
    ImmutableArray<long> ReadsDropped,
    RaftSnapshot? Snapshot = null) : IReady<RaftMessage>
{
    /// <summary>Whether step 2 must reach the disk before step 3.</summary>
    public bool MustSync => HardState is not null || !Entries.IsEmpty || Snapshot is not null;

    public IEnumerable<RaftMessage> AllMessages => MessagesBeforePersist.Concat(Messages);

    // The contract's view: views over the typed fields (no copies), empty lists shared.
    IReadOnlyList<Outgoing<RaftMessage>> IReady<RaftMessage>.MessagesBeforePersist => OutgoingView.Of(MessagesBeforePersist);

    /// <summary>One write per Ready: snapshot, hard state and entries go to the disk together (step 2 above).</summary>
    IReadOnlyList<object> IReady<RaftMessage>.Writes => MustSync ? [new RaftWrite(Snapshot, HardState, Entries)] : [];

    IReadOnlyList<Outgoing<RaftMessage>> IReady<RaftMessage>.MessagesAfterPersist => OutgoingView.Of(Messages);

    /// <summary>The installed snapshot (a <see cref="RaftSnapshot"/>) first, then the committed <see cref="LogEntry"/>s.</summary>
    IReadOnlyList<object> IReady<RaftMessage>.Applies =>
        Snapshot is null && CommittedEntries.IsEmpty ? [] : new PrefixedView<RaftSnapshot, LogEntry>(Snapshot, CommittedEntries);

    /// <summary>Confirmed reads (<see cref="ReadState"/>), then dropped ones (<see cref="ReadDropped"/>).</summary>
    IReadOnlyList<object> IReady<RaftMessage>.Answers => ReadStates.IsEmpty && ReadsDropped.IsEmpty ? [] : new AnswersView(ReadStates, ReadsDropped);

    private sealed class OutgoingView(ImmutableArray<RaftMessage> messages) : IReadOnlyList<Outgoing<RaftMessage>>
    {
        public static IReadOnlyList<Outgoing<RaftMessage>> Of(ImmutableArray<RaftMessage> messages) => messages.IsEmpty ? [] : new OutgoingView(messages);
        public Outgoing<RaftMessage> this[int index] => new(messages[index].To, messages[index]);
        public int Count => messages.Length;
        public IEnumerator<Outgoing<RaftMessage>> GetEnumerator()
        {
            foreach (var m in messages) yield return new(m.To, m);
        }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class PrefixedView<TFirst, TItem>(TFirst? first, ImmutableArray<TItem> items) : IReadOnlyList<object>
        where TFirst : class where TItem : notnull
    {
        private readonly int _offset = first is null ? 0 : 1;
        public object this[int index] => index < _offset ? first! : items[index - _offset];
        public int Count => _offset + items.Length;
        public IEnumerator<object> GetEnumerator()
        {
            for (var i = 0; i < Count; i++) yield return this[i];
        }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class AnswersView(ImmutableArray<ReadState> reads, ImmutableArray<long> dropped) : IReadOnlyList<object>
    {
        public object this[int index] => index < reads.Length ? reads[index] : new ReadDropped(dropped[index - reads.Length]);
        public int Count => reads.Length + dropped.Length;
        public IEnumerator<object> GetEnumerator()
        {
            for (var i = 0; i < Count; i++) yield return this[i];
        }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

/// <summary>
/// The one write of a Raft <see cref="Ready"/> as <see cref="IReady{TMessage}.Writes"/> hands it: the snapshot (replacing
/// the whole stored log), then the hard state, then the entries (truncate from Entries[0].Index, append), durable together.
/// </summary>
public sealed record RaftWrite(RaftSnapshot? Snapshot, HardState? HardState, ImmutableArray<LogEntry> Entries);

/// <summary>An answer of a Raft <see cref="Ready"/>: the read <paramref name="RequestId"/> was dropped and must be failed.</summary>
public sealed record ReadDropped(long RequestId);

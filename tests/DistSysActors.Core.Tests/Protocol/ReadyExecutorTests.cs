using System.Collections.Immutable;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;

namespace DistSysActors.Core.Tests.Protocol;

public class ReadyExecutorTests
{
    private static NodeId N(int id) => new(id);

    /// <summary>A core that hands out given Readies and records what Advance saw.</summary>
    private sealed class ScriptedCore<TReady>(params TReady[] readies) : IProtocolCore<string, TReady> where TReady : class, IReady<string>
    {
        private readonly Queue<TReady> _readies = new(readies);
        public List<TReady> Advanced { get; } = [];
        public List<string>? Log { get; init; }
        public void Step(string message, long nowMs) { }
        public void Tick(long nowMs) { }
        public bool HasReady => _readies.Count > 0;
        public TReady TakeReady() => _readies.Dequeue();
        public void Advance(TReady ready)
        {
            Log?.Add("advance");
            Advanced.Add(ready);
        }
        public IReadOnlyList<string> CheckInvariants() => [];
    }

    /// <summary>Records every effect in order; persists at once, or holds the continuation when <see cref="Deferred"/>.</summary>
    private sealed class RecordingEnvironment<TMessage>(List<string> log) : IReadyEnvironment<TMessage>
    {
        public bool Deferred { get; init; }
        public Action? PendingDurable { get; private set; }
        public void Send(Outgoing<TMessage> outgoing) => log.Add($"send {outgoing.To} {outgoing.Message}");
        public void Persist(IReadOnlyList<object> writes, Action onDurable)
        {
            log.Add($"persist {string.Join(",", writes)}");
            if (Deferred) PendingDurable = onDurable;
            else onDurable();
        }
        public void Apply(object entry) => log.Add($"apply {entry}");
        public void Answer(object answer) => log.Add($"answer {answer}");
    }

    [Fact]
    public void Executes_send_before_persist_send_after_apply_answer_then_advance()
    {
        var log = new List<string>();
        var ready = new ProtocolReady<string>([new(N(2), "early")], ["w1", "w2"], [new(N(3), "late")], ["a1"], ["r1"]);
        var core = new ScriptedCore<ProtocolReady<string>>(ready) { Log = log };
        Assert.True(ReadyExecutor.Drain(core, new RecordingEnvironment<string>(log)));
        Assert.Equal(["send 2 early", "persist w1,w2", "send 3 late", "apply a1", "answer r1", "advance"], log);
        Assert.Same(ready, Assert.Single(core.Advanced));
    }

    [Fact]
    public void An_asynchronous_write_holds_the_rest_of_the_ready_and_the_next_one_until_it_is_durable()
    {
        var log = new List<string>();
        var first = new ProtocolReady<string>([], ["w1"], [new(N(2), "ack")], [], []);
        var second = new ProtocolReady<string>([], [], [new(N(2), "next")], [], []);
        var core = new ScriptedCore<ProtocolReady<string>>(first, second);
        var environment = new RecordingEnvironment<string>(log) { Deferred = true };
        var drained = false;
        Assert.False(ReadyExecutor.Drain(core, environment, () => drained = true));
        Assert.Equal(["persist w1"], log);
        Assert.Empty(core.Advanced);

        environment.PendingDurable!();
        Assert.Equal(["persist w1", "send 2 ack", "send 2 next"], log);
        Assert.Equal([first, second], core.Advanced);
        Assert.True(drained);
    }

    [Fact]
    public void A_ready_buffer_refuses_the_next_ready_while_writes_are_not_advanced()
    {
        var buffer = new ReadyBuffer<string>();
        buffer.Persist("event");
        buffer.Send(N(2), "message");
        var ready = buffer.Take();
        buffer.Answer("more");
        Assert.Throws<InvalidOperationException>(() => buffer.Take());
        buffer.Advance(ready);
        Assert.Equal(["more"], buffer.Take().Answers);
    }

    /// <summary>Raft's Ready seen through the contract: one write (snapshot, hard state, entries), applies, answers.</summary>
    private sealed record RaftReadyView(Ready Ready) : IReady<RaftMessage>
    {
        public IReadOnlyList<Outgoing<RaftMessage>> MessagesBeforePersist => [.. Ready.MessagesBeforePersist.Select(m => new Outgoing<RaftMessage>(m.To, m))];
        public IReadOnlyList<object> Writes => Ready.MustSync ? [new RaftWrite(Ready.Snapshot, Ready.HardState, Ready.Entries)] : [];
        public IReadOnlyList<Outgoing<RaftMessage>> MessagesAfterPersist => [.. Ready.Messages.Select(m => new Outgoing<RaftMessage>(m.To, m))];
        public IReadOnlyList<object> Applies => [.. Ready.Snapshot is { } s ? [s] : Array.Empty<object>(), .. Ready.CommittedEntries];
        public IReadOnlyList<object> Answers => [.. Ready.ReadStates, .. Ready.ReadsDropped.Select(id => new ReadDropped(id))];
    }

    private sealed record RaftWrite(RaftSnapshot? Snapshot, HardState? HardState, ImmutableArray<LogEntry> Entries);

    private sealed record ReadDropped(long RequestId);

    [Fact]
    public void Raft_s_ready_fits_the_contract_without_loss()
    {
        var entry = new LogEntry(5, 2, EntryType.Normal, [1]);
        var committed = new LogEntry(4, 2, EntryType.Normal, [2]);
        var heartbeat = new AppendEntries(N(1), N(2), 2, 4, 2, [], 4);
        var vote = new RequestVoteResponse(N(1), N(3), 2, true, false);
        var ready = new Ready(new HardState(2, N(1), 4), [entry], [heartbeat], [vote], [committed], [new ReadState(7, 4)], [8]);
        var view = new RaftReadyView(ready);

        var log = new List<string>();
        var environment = new RecordingEnvironment<RaftMessage>(log);
        var core = new ViewCore(view);
        ReadyExecutor.Execute(core, view, environment);

        // The heartbeat leaves before the write, the vote after it; the committed entry is applied, then both reads answered.
        Assert.Equal(["send", "persist", "send", "apply", "answer", "answer"], log.Select(l => l.Split(' ')[0]));
        // Everything the Raft Ready says is recoverable from what the contract hands the host.
        var write = Assert.IsType<RaftWrite>(Assert.Single(view.Writes));
        var rebuilt = new Ready(write.HardState, write.Entries, [.. view.MessagesBeforePersist.Select(o => o.Message)], [.. view.MessagesAfterPersist.Select(o => o.Message)],
            [.. view.Applies.OfType<LogEntry>()], [.. view.Answers.OfType<ReadState>()], [.. view.Answers.OfType<ReadDropped>().Select(d => d.RequestId)], write.Snapshot);
        Assert.Equal(ready.HardState, rebuilt.HardState);
        Assert.Equal(ready.Entries.ToArray(), rebuilt.Entries.ToArray());
        Assert.Equal(ready.MessagesBeforePersist.ToArray(), rebuilt.MessagesBeforePersist.ToArray());
        Assert.Equal(ready.Messages.ToArray(), rebuilt.Messages.ToArray());
        Assert.Equal(ready.CommittedEntries.ToArray(), rebuilt.CommittedEntries.ToArray());
        Assert.Equal(ready.ReadStates.ToArray(), rebuilt.ReadStates.ToArray());
        Assert.Equal(ready.ReadsDropped.ToArray(), rebuilt.ReadsDropped.ToArray());
        Assert.Same(view, Assert.Single(core.Advanced));
    }

    [Fact]
    public void Raft_s_own_ready_hands_the_contract_what_the_view_maps()
    {
        var snapshot = new RaftSnapshot(new SnapshotMeta(3, 2, new Membership([N(1), N(2), N(3)], [])), [9]);
        var entry = new LogEntry(5, 2, EntryType.Normal, [1]);
        var committed = new LogEntry(4, 2, EntryType.Normal, [2]);
        var heartbeat = new AppendEntries(N(1), N(2), 2, 4, 2, [], 4);
        var vote = new RequestVoteResponse(N(1), N(3), 2, true, false);
        var ready = new Ready(new HardState(2, N(1), 4), [entry], [heartbeat], [vote], [committed], [new ReadState(7, 4)], [8], snapshot);
        var view = new RaftReadyView(ready);
        IReady<RaftMessage> contract = ready;

        Assert.Equal(view.MessagesBeforePersist, contract.MessagesBeforePersist);
        Assert.Equal(view.MessagesAfterPersist, contract.MessagesAfterPersist);
        var write = Assert.IsType<DistSysActors.Core.Raft.RaftWrite>(Assert.Single(contract.Writes));
        Assert.Equal((snapshot, ready.HardState), (write.Snapshot, write.HardState));
        Assert.Equal([entry], write.Entries.ToArray());
        Assert.Equal(view.Applies, contract.Applies);
        Assert.Equal([new ReadState(7, 4), new DistSysActors.Core.Raft.ReadDropped(8)], contract.Answers);

        // A Ready that only moves messages writes nothing and shares the empty lists.
        IReady<RaftMessage> light = new Ready(null, [], [heartbeat], [], [], [], []);
        Assert.Empty(light.Writes);
        Assert.Empty(light.Applies);
        Assert.Empty(light.Answers);
    }

    [Fact]
    public void A_raft_node_checks_its_own_invariants_through_the_contract()
    {
        var config = new RaftConfig { Id = N(1), Voters = [N(1)] };
        IProtocolCore<RaftMessage, Ready> core = new RaftNode(config, new DeterministicRandom(1));
        for (var i = 0; i < 50; i++)
        {
            core.Tick(i);
            while (core.HasReady) core.Advance(core.TakeReady());
            Assert.Empty(core.CheckInvariants());
        }
        Assert.Equal(RaftRole.Leader, ((RaftNode)core).Role);
    }

    private sealed class ViewCore(RaftReadyView view) : IProtocolCore<RaftMessage, RaftReadyView>
    {
        public List<RaftReadyView> Advanced { get; } = [];
        public void Step(RaftMessage message, long nowMs) { }
        public void Tick(long nowMs) { }
        public bool HasReady => false;
        public RaftReadyView TakeReady() => view;
        public void Advance(RaftReadyView ready) => Advanced.Add(ready);
        public IReadOnlyList<string> CheckInvariants() => [];
    }
}

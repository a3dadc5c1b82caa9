using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence.TestKit;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Tests.Protocol;

/// <summary>
/// The durable protocol host's journal duties, on a tiny tally core and Akka's test journal: pipelined and blocking
/// writes, a write that carries a snapshot, the host's own snapshots with recovery, and a journal that rejects a write.
/// </summary>
public sealed class DurableProtocolHostSpec() : TestKit(TestJournalConfig.WithFallback(DistSysConfig.TestOverlay).WithFallback(DistSysConfig.Reference))
{
    private static readonly Config TestJournalConfig = ConfigurationFactory.ParseString("""
        # The test journal's replies carry exceptions that Akka's serialization check cannot round-trip.
        akka.actor.serialize-messages = off
        akka.persistence.journal.plugin = "akka.persistence.journal.test"
        akka.persistence.journal.test {
          class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.test"
        akka.persistence.snapshot-store.test {
          class = "Akka.Persistence.TestKit.TestSnapshotStore, Akka.Persistence.TestKit"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        """);

    private ITestJournal Journal => TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null));

    [Theory]
    [InlineData(JournalWrites.Pipelined, true)]
    [InlineData(JournalWrites.Blocking, false)]
    public async Task Pipelined_writes_step_the_core_while_a_write_is_in_flight_and_blocking_writes_do_not(JournalWrites mode, bool steppedDuringWrite)
    {
        await Journal.OnWrite.PassWithDelay(TimeSpan.FromMilliseconds(300));
        var tally = Sys.ActorOf(TallyActor.Props("pipe-" + mode, mode, TestActor));
        foreach (var n in new[] { 1, 2, 3 }) tally.Tell(new Add(n));
        // Each value is applied once its write is durable, in order. The first wait covers the journal's start and
        // recovery, which on a loaded machine (the first test of a fresh run) takes longer than the default 3 s.
        var patience = TimeSpan.FromSeconds(15);
        Assert.Equal(1, ExpectMsg<Applied>(patience).Total);
        Assert.Equal(3, ExpectMsg<Applied>(patience).Total);
        Assert.Equal(6, ExpectMsg<Applied>(patience).Total);
        var status = await tally.Ask<TallyStatus>(GetTally.Instance, RemainingOrDefault);
        Assert.Equal(steppedDuringWrite, status.SteppedDuringWrite > 0);
    }

    [Fact]
    public async Task A_rejected_write_restarts_the_host_which_recovers_what_is_durable_and_serves_again()
    {
        var tally = Sys.ActorOf(TallyActor.Props("rejected", JournalWrites.Pipelined, TestActor));
        tally.Tell(new Add(2));
        Assert.Equal(2, ExpectMsg<Applied>().Total);

        await Journal.OnWrite.Reject();
        tally.Tell(new Add(5));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        await Journal.OnWrite.Pass();

        // Without the restart the host would wait for the rejected write forever and never apply 7.
        await AwaitAssertAsync(async () =>
        {
            var status = await tally.Ask<TallyStatus>(GetTally.Instance, TimeSpan.FromSeconds(1));
            Assert.True(status.Incarnation > 1, "the host restarted");
        }, TimeSpan.FromSeconds(10));
        tally.Tell(new Add(7));
        Assert.Equal(9, FishForMessage<Applied>(_ => true).Total);
    }

    [Fact]
    public async Task The_host_snapshots_every_n_events_and_a_write_may_carry_a_snapshot_both_recovered_after_a_restart()
    {
        var tally = Sys.ActorOf(TallyActor.Props("snap", JournalWrites.Pipelined, TestActor, snapshotEveryEvents: 3));
        foreach (var n in new[] { 1, 2, 3, 4 })
        {
            // One at a time: values sent together would share one Ready and the snapshot would come after all four.
            tally.Tell(new Add(n));
            ExpectMsg<Applied>();
        }
        await AwaitAssertAsync(async () => Assert.Equal(1, (await tally.Ask<TallyStatus>(GetTally.Instance, RemainingOrDefault)).SnapshotsTaken));

        Watch(tally);
        Sys.Stop(tally);
        ExpectTerminated(tally);
        tally = Sys.ActorOf(TallyActor.Props("snap", JournalWrites.Pipelined, TestActor, snapshotEveryEvents: 3));
        var recovered = await tally.Ask<TallyStatus>(GetTally.Instance, RemainingOrDefault);
        Assert.Equal(10, recovered.Total);
        Assert.Equal((6, 1), (recovered.RestoredFrom, recovered.Replayed)); // snapshot after 1+2+3, then the 4th event

        // A reset is a write that replaces the state with a snapshot, then journals one event after it.
        tally.Tell(new Reset(100));
        Assert.Equal(101, ExpectMsg<Applied>().Total);
        Watch(tally);
        Sys.Stop(tally);
        ExpectTerminated(tally);
        tally = Sys.ActorOf(TallyActor.Props("snap", JournalWrites.Pipelined, TestActor, snapshotEveryEvents: 3));
        var afterReset = await tally.Ask<TallyStatus>(GetTally.Instance, RemainingOrDefault);
        Assert.Equal((101, 100, 1), (afterReset.Total, afterReset.RestoredFrom, afterReset.Replayed));
    }

    // ------------------------------------------------------------------ the tally protocol

    private interface ITallyMessage;

    private sealed record Add(int Value) : ITallyMessage;

    /// <summary>Replaces the total with Value (saved as a snapshot), then adds 1 (journaled after it).</summary>
    private sealed record Reset(int Value) : ITallyMessage;

    private sealed record Added(int Value);

    private sealed record ResetTo(int Value);

    private sealed record Applied(int Total);

    private sealed record GetTally
    {
        public static readonly GetTally Instance = new();
    }

    private sealed record TallyStatus(int Total, int Incarnation, int SteppedDuringWrite, int SnapshotsTaken, int RestoredFrom, int Replayed);

    private sealed class TallyCore : IProtocolCore<ITallyMessage, ProtocolReady<ITallyMessage>>
    {
        private readonly ReadyBuffer<ITallyMessage> _ready = new();

        public int SteppedDuringWrite { get; private set; }

        public void Step(ITallyMessage message, long nowMs)
        {
            if (_ready.WritesInFlight) SteppedDuringWrite++;
            switch (message)
            {
                case Add add:
                    _ready.Persist(new Added(add.Value));
                    _ready.Apply(new Added(add.Value));
                    break;
                case Reset reset:
                    _ready.Persist(new ResetTo(reset.Value));
                    _ready.Apply(new ResetTo(reset.Value));
                    break;
            }
        }

        public void Tick(long nowMs) { }

        public bool HasReady => _ready.HasReady && !_ready.WritesInFlight;

        public ProtocolReady<ITallyMessage> TakeReady() => _ready.Take();

        public void Advance(ProtocolReady<ITallyMessage> ready) => _ready.Advance(ready);

        public IReadOnlyList<string> CheckInvariants() => [];
    }

    private sealed class TallyActor : DurableProtocolHostActor<ITallyMessage, ProtocolReady<ITallyMessage>>
    {
        private static int _incarnations;
        private readonly TallyCore _core = new();
        private readonly IActorRef _observer;
        private readonly int _incarnation = Interlocked.Increment(ref _incarnations);
        private int _total;
        private int _snapshotsTaken;
        private int _restoredFrom;
        private int _replayed;

        public TallyActor(string id, JournalWrites mode, IActorRef observer, int snapshotEveryEvents)
            : base(new NodeId(1), new ProtocolHostSettings("tally"), ActorRefs.Nobody, null, snapshotEveryEvents, mode)
        {
            PersistenceId = "tally-" + id;
            _observer = observer;
            Command<Add>(StepCore);
            Command<Reset>(StepCore);
            CommandStatus<GetTally>(() => new TallyStatus(_total, _incarnation, _core.SteppedDuringWrite, _snapshotsTaken, _restoredFrom, _replayed));
        }

        public static Props Props(string id, JournalWrites mode, IActorRef observer, int snapshotEveryEvents = 1_000) =>
            Akka.Actor.Props.Create(() => new TallyActor(id, mode, observer, snapshotEveryEvents));

        public override string PersistenceId { get; }

        protected override IProtocolCore<ITallyMessage, ProtocolReady<ITallyMessage>> Core => _core;

        protected override void RestoreSnapshot(object snapshot) => _total = _restoredFrom = (int)snapshot;

        protected override void Replay(object journalEvent)
        {
            _total += ((Added)journalEvent).Value;
            _replayed++;
        }

        protected override object SnapshotState() => _total;

        protected override void OnSnapshotTaken(object state) => _snapshotsTaken++;

        protected override JournalPlan PlanWrite(object write) =>
            write is ResetTo reset ? new JournalPlan(reset.Value, [new Added(1)]) : JournalPlan.Of(write);

        public override void Apply(object entry)
        {
            _total = entry switch
            {
                Added added => _total + added.Value,
                ResetTo reset => reset.Value + 1,
                _ => _total,
            };
            _observer.Tell(new Applied(_total));
        }
    }
}

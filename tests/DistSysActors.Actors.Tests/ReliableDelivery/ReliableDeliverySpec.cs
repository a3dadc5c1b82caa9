using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.ReliableDelivery;
using DistSysActors.Core;
using DistSysActors.Core.Network;
using Xunit.Abstractions;
using static DistSysActors.Actors.ReliableDelivery.DeliveryProtocol;

namespace DistSysActors.Actors.Tests.ReliableDelivery;

/// <summary>
/// The reliable delivery pair between two actor systems over real Akka.Remote on loopback, each with its network
/// component applying the faults, and each side crashed and restarted from its (in-memory) journal mid-way.
/// </summary>
public sealed class ReliableDeliverySpec : TestKit
{
    private const string Channel = "demo";
    private const long FaultSeed = 11;

    private static readonly Config Remote = LoopbackRemoting.Config("""
        distsys.delivery { redeliver-interval-ms = 100, snapshot-every-events = 97 }
        # Off as in RaftActorSpec (persistent actors stall under it here); the envelopes and acks still cross real
        # remoting, and DeliveryWireFormatSpec round-trips every message, event and snapshot.
        akka.actor.serialize-messages = off
        """);

    private static readonly NodeId N1 = new(1), N2 = new(2);
    private readonly ActorSystem _other;
    private readonly IActorRef _net1, _net2;
    private readonly DeliverySettings _settings = DeliverySettings.Create(Remote);

    private readonly ITestOutputHelper _output;

    public ReliableDeliverySpec(ITestOutputHelper output) : base(Remote, "distsys", output)
    {
        _output = output;
        _other = ActorSystem.Create("distsys", Remote);
        var peers = LoopbackRemoting.Peers(Sys, _other);
        var network = NetworkSettings.Create(Remote) with { Seed = FaultSeed };
        _net1 = Sys.ActorOf(NetworkActor.Props(N1, network, peers), NetworkActor.Name);
        _net2 = _other.ActorOf(NetworkActor.Props(N2, network, peers), NetworkActor.Name);
    }

    protected override void AfterAll()
    {
        _other.Terminate().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }

    private IActorRef StartSender(string name) => Sys.ActorOf(DeliverySenderActor.Props(N1, Channel, _settings, _net1), name);

    private IActorRef StartReceiver(string name) =>
        _other.ActorOf(DeliveryReceiverActor.Props(N2, Channel, _settings, _net2, () => new KeyCountHandler()), name);

    private void SetFaults(FaultSpec spec)
    {
        foreach (var net in new[] { _net1, _net2 })
        {
            net.Tell(new NetworkProtocol.SetFaults(spec), TestActor);
            ExpectMsg<NetworkProtocol.FaultsApplied>();
        }
    }

    private void Crash(ActorSystem system, IActorRef actor)
    {
        var watcher = CreateTestProbe(system);
        watcher.Watch(actor);
        system.Stop(actor);
        watcher.ExpectTerminated(actor);
    }

    private NetworkCounters SentCounters(IActorRef net)
    {
        net.Tell(NetworkProtocol.GetStatus.Instance, TestActor);
        return ExpectMsg<NetworkProtocol.NetworkStatus>().Sent;
    }

    /// <summary>
    /// 1,000 sends of 200 distinct commands (each sent five times by the application, as after timeouts) across
    /// links that drop 30% and duplicate 30% of messages both ways; the sender is crashed after 300 sends and the
    /// receiver after 650. Every command takes effect exactly once and every one is confirmed; the application hears
    /// Accepted for a key's first offer and AlreadyAccepted for its repeats, and no offer is refused.
    /// </summary>
    [Fact]
    public void Commands_sent_1000_times_over_a_lossy_duplicating_link_take_effect_once_each_across_crashes_of_both_sides()
    {
        const int distinct = 200, repeats = 5;
        SetFaults(new FaultSpec { DropRate = 0.3, DuplicateRate = 0.3, Seed = FaultSeed });
        var app = CreateTestProbe();
        var sender = StartSender("sender-1");
        var receiver = StartReceiver("receiver-1");

        var keys = Enumerable.Range(0, distinct).Select(i => $"order-{i:D3}").ToArray();
        var query = CreateTestProbe(_other);
        var answers = new List<DeliverResult>();
        var offersInCrashWindow = new List<string>();
        int sent = 0, unanswered = 0;
        foreach (var key in SendOrder(keys, repeats, new DeterministicRandom(FaultSeed)))
        {
            sender.Tell(new Deliver(N2, key, new Increment(key)), app.Ref);
            sent++;
            unanswered++;
            if (sent > 250 && sent <= 300) offersInCrashWindow.Add(key);
            if (sent == 250)
            {
                // Wait, as a client would, so the first incarnation has accepted work in flight when it crashes.
                answers.AddRange(app.ReceiveN(unanswered, TimeSpan.FromSeconds(10)).Select(AsResult));
                unanswered = 0;
                sender.Tell(GetOutboxStatus.Instance, TestActor);
                Assert.NotEmpty(ExpectMsg<OutboxStatus>().LastSeqs);
            }
            if (sent == 300)
            {
                // Up to 50 offers die in the mailbox unanswered; the application's later repeats cover them.
                Crash(Sys, sender);
                sender = StartSender("sender-2");
                unanswered = 0;
            }
            if (sent == 650)
            {
                // The first remoting association can be slow on a loaded machine: crash only once this incarnation has work done.
                AwaitAssert(() =>
                {
                    receiver.Tell(GetReceiverStatus.Instance, query.Ref);
                    Assert.True(query.ExpectMsg<ReceiverStatus>().Processed > 0);
                }, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50));
                Crash(_other, receiver);
                receiver = StartReceiver("receiver-2");
            }
            if (sent % 50 == 0 && unanswered > 0)
            {
                answers.AddRange(app.ReceiveN(unanswered, TimeSpan.FromSeconds(10)).Select(AsResult));
                unanswered = 0;
            }
        }
        Assert.Equal(distinct * repeats, sent);

        AwaitAssert(() =>
        {
            sender.Tell(GetOutboxStatus.Instance, TestActor);
            var outbox = ExpectMsg<OutboxStatus>();
            Assert.Equal(0, outbox.Pending);
            Assert.Equal(new[] { new Core.ReliableDelivery.OutboxSeqRecord(N2.Value, distinct) }, outbox.LastSeqs);
            receiver.Tell(GetHandlerState.Instance, query.Ref);
            Assert.Equal(distinct, query.ExpectMsg<KeyCounts>().Keys.Length);
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));

        receiver.Tell(GetHandlerState.Instance, query.Ref);
        var counts = query.ExpectMsg<KeyCounts>().ToDictionary();
        Assert.Equal(keys, counts.Keys.Order(StringComparer.Ordinal));
        Assert.All(counts, kv => Assert.True(kv.Value == 1, $"fault seed {FaultSeed}: {kv.Key} took effect {kv.Value} times"));

        // The faults really were there, both ways, so the de-duplication was exercised.
        foreach (var net in new[] { _net1, _net2 })
        {
            var c = SentCounters(net);
            _output.WriteLine($"network {(net == _net1 ? N1 : N2)} sent: {c}");
            Assert.True(c.Dropped > 0 && c.Duplicated > 0, $"fault seed {FaultSeed}: {c}");
        }
        answers.AddRange(app.ReceiveWhile(TimeSpan.FromMilliseconds(200), AsResult, sent));
        _output.WriteLine("answers to the application: " + string.Join(", ", answers.CountBy(a => a.GetType().Name).Select(kv => $"{kv.Key} {kv.Value}")));
        AssertAnswers(keys, repeats, answers, offersInCrashWindow);
        receiver.Tell(GetReceiverStatus.Instance, query.Ref);
        var status = query.ExpectMsg<ReceiverStatus>();
        sender.Tell(GetOutboxStatus.Instance, TestActor);
        _output.WriteLine($"final outbox incarnation: {ExpectMsg<OutboxStatus>()}; final receiver incarnation: {status with { Senders = [] }}");
        Assert.Equal(distinct, Assert.Single(status.Senders).HighWaterSeq);
        Assert.Equal(0, status.IdsHeld);
    }

    private static DeliverResult AsResult(object answer) => Assert.IsAssignableFrom<DeliverResult>(answer);

    /// <summary>
    /// What the application must have heard: only the offers that died in the first sender's mailbox at its crash (sends
    /// 251 to 300) may go unanswered; no offer is refused (the outbox holds all 200); each key is Accepted at most once,
    /// with sequence numbers rising in answer order, and before any AlreadyAccepted for it; a key is never accepted only
    /// if its acceptance was lost in that crash; and once a repeat is answered as confirmed it stays confirmed.
    /// </summary>
    private static void AssertAnswers(string[] keys, int repeats, List<DeliverResult> answers, List<string> offersInCrashWindow)
    {
        var sent = keys.Length * repeats;
        Assert.InRange(answers.Count, sent - offersInCrashWindow.Count, sent);
        Assert.Empty(answers.OfType<Refused>().Select(r => $"fault seed {FaultSeed}: {r.Key} refused: {r.Reason}"));
        Assert.Empty(answers.Select(a => a.Key).Except(keys));
        var accepted = answers.OfType<Accepted>().ToList();
        Assert.All(accepted, a => Assert.Equal(N2, a.To));
        Assert.All(accepted.Zip(accepted.Skip(1), (a, b) => (Earlier: a, Later: b)),
            p => Assert.True(p.Earlier.Seq < p.Later.Seq, $"fault seed {FaultSeed}: {p.Later} answered after {p.Earlier}"));
        Assert.All(accepted, a => Assert.InRange(a.Seq, 1, keys.Length));
        var acceptedKeys = accepted.Select(a => a.Key).ToHashSet();
        Assert.Equal(accepted.Count, acceptedKeys.Count);
        Assert.Empty(keys.Where(k => !acceptedKeys.Contains(k) && !offersInCrashWindow.Contains(k)).Select(k => $"fault seed {FaultSeed}: {k} never accepted"));
        foreach (var key in keys)
        {
            var forKey = answers.Where(a => a.Key == key).ToList();
            var missing = offersInCrashWindow.Count(k => k == key);
            Assert.True(forKey.Count >= repeats - missing, $"fault seed {FaultSeed}: {key} answered {forKey.Count} of {repeats} times");
            var repeatsAnswered = acceptedKeys.Contains(key) ? forKey.Skip(1) : forKey;
            if (acceptedKeys.Contains(key)) Assert.IsType<Accepted>(forKey[0]);
            var already = repeatsAnswered.Select(a => Assert.IsType<AlreadyAccepted>(a)).ToList();
            Assert.True(already.SkipWhile(a => !a.Confirmed).All(a => a.Confirmed), $"fault seed {FaultSeed}: {key} answered unconfirmed after confirmed: {string.Join(", ", already)}");
        }
    }

    [Fact]
    public void A_receiver_restarted_after_processing_acknowledges_redeliveries_without_applying_them_again()
    {
        var receiver = StartReceiver("receiver-a");
        var fakeSender = CreateTestProbe();
        _net1.Tell(new NetworkProtocol.Register(SenderService(Channel), fakeSender.Ref));
        AwaitAssert(() =>
        {
            _net1.Tell(new NetworkProtocol.Send(N2, ReceiverService(Channel), new Core.ReliableDelivery.DeliveryEnvelope(N1, 1, "k", new Increment("k"), 1)));
            fakeSender.ExpectMsg<Core.ReliableDelivery.DeliveryAck>(TimeSpan.FromMilliseconds(500));
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));

        Crash(_other, receiver);
        receiver = StartReceiver("receiver-b");
        var query = CreateTestProbe(_other);
        AwaitAssert(() =>
        {
            _net1.Tell(new NetworkProtocol.Send(N2, ReceiverService(Channel), new Core.ReliableDelivery.DeliveryEnvelope(N1, 1, "k", new Increment("k"), 2)));
            receiver.Tell(GetReceiverStatus.Instance, query.Ref);
            Assert.True(query.ExpectMsg<ReceiverStatus>().DuplicatesAcked >= 1);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        Assert.Equal(new Core.ReliableDelivery.DeliveryAck(N2, 1), fakeSender.ExpectMsg<Core.ReliableDelivery.DeliveryAck>());

        receiver.Tell(GetHandlerState.Instance, query.Ref);
        Assert.Equal(new Dictionary<string, int> { ["k"] = 1 }, query.ExpectMsg<KeyCounts>().ToDictionary());
    }

    /// <summary>
    /// Key k's repeats go out at logical times k, k + 20, ..., k + 20 (repeats - 1), ties in random order, so new keys
    /// keep arriving until near the end and both crashes hit messages still in flight.
    /// </summary>
    private static IEnumerable<string> SendOrder(string[] keys, int repeats, DeterministicRandom random) =>
        keys.SelectMany((key, k) => Enumerable.Range(0, repeats).Select(r => (Time: k + 20 * r, Tie: random.NextInt64(0, long.MaxValue), Key: key)))
            .OrderBy(s => s.Time).ThenBy(s => s.Tie)
            .Select(s => s.Key)
            .ToArray();
}

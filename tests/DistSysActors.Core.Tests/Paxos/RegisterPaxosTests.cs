using DistSysActors.Core.Paxos;
using static DistSysActors.Core.Paxos.RegisterPaxos;

namespace DistSysActors.Core.Tests.Paxos;

/// <summary>Basic Paxos registers, one test per rule of "Paxos Made Simple" (Lamport, 2001), named after its section.</summary>
public sealed class RegisterPaxosTests
{
    private static readonly NodeId[] Ids = [new(1), new(2), new(3)];
    private static NodeId N(int id) => new(id);

    private static PaxosTestNet<RegisterNode, RegisterMessage> Net(long seed = 1) =>
        new(Ids, (id, journal) => new RegisterNode(id, Ids, new DeterministicRandom(seed + id.Value), journal));

    private static Outcome OutcomeOf(PaxosTestNet<RegisterNode, RegisterMessage> net, long requestId) =>
        net.Answers.Select(a => a.Answer).OfType<Outcome>().Single(o => o.RequestId == requestId);

    [Fact]
    public void Ballot_orders_by_round_then_node_and_reads_back_from_its_text()
    {
        Assert.True(new Ballot(2, N(1)) > new Ballot(1, N(3)));
        Assert.True(new Ballot(2, N(3)) > new Ballot(2, N(1)));
        Assert.True(Ballot.Zero < new Ballot(1, N(1)));
        Assert.Equal("7.3", new Ballot(7, N(3)).ToString());
        Assert.True(Ballot.TryParse("7.3", out var parsed));
        Assert.Equal(new Ballot(7, N(3)), parsed);
        Assert.False(Ballot.TryParse("7", out _));
        Assert.False(Ballot.TryParse("x.1", out _));
    }

    [Fact]
    public void Backoff_delays_grow_with_attempts_are_randomized_and_capped()
    {
        var backoff = new PaxosBackoff(20, 400);
        var random = new DeterministicRandom(5);
        var first = Enumerable.Range(0, 50).Select(_ => backoff.Delay(1, random)).ToList();
        var fourth = Enumerable.Range(0, 50).Select(_ => backoff.Delay(4, random)).ToList();
        var tenth = Enumerable.Range(0, 50).Select(_ => backoff.Delay(10, random)).ToList();
        Assert.All(first, d => Assert.InRange(d, 10, 20));
        Assert.All(fourth, d => Assert.InRange(d, 80, 160));
        Assert.All(tenth, d => Assert.InRange(d, 200, 400));
        Assert.True(first.Distinct().Count() > 3, "the delays are randomized");
    }

    [Fact]
    public void Section2_2_P1a_an_acceptor_promises_a_higher_ballot_and_writes_the_promise_before_it_answers()
    {
        var node = new RegisterNode(N(2), Ids, new DeterministicRandom(1));
        node.Step(new Prepare(N(1), "r", new Ballot(1, N(1))), 0);
        var ready = node.TakeReady();
        Assert.Equal([new AcceptorRecord("r", new Ballot(1, N(1)), Ballot.Zero, null)], ready.Writes);
        Assert.Empty(ready.MessagesBeforePersist);
        Assert.Equal(new Promise(N(2), "r", new Ballot(1, N(1)), Ballot.Zero, null), Assert.Single(ready.MessagesAfterPersist).Message);
        node.Advance(ready);
    }

    [Fact]
    public void Section2_2_P1a_an_acceptor_rejects_a_prepare_or_accept_below_its_promise_naming_the_promise()
    {
        var node = new RegisterNode(N(2), Ids, new DeterministicRandom(1));
        node.Step(new Prepare(N(3), "r", new Ballot(2, N(3))), 0);
        node.Advance(node.TakeReady());
        node.Step(new Prepare(N(1), "r", new Ballot(1, N(1))), 0);
        node.Step(new Accept(N(1), "r", new Ballot(1, N(1)), "a"), 0);
        var ready = node.TakeReady();
        Assert.Empty(ready.Writes);
        Assert.Equal(2, ready.MessagesAfterPersist.Count);
        Assert.All(ready.MessagesAfterPersist, m => Assert.Equal(new Ballot(2, N(3)), Assert.IsType<Rejected>(m.Message).Promised));
        Assert.Null(node.Acceptor.StateOf("r")!.AcceptedValue);
    }

    [Fact]
    public void Section2_2_a_promise_reports_the_highest_ballot_accepted_and_its_value()
    {
        var node = new RegisterNode(N(2), Ids, new DeterministicRandom(1));
        node.Step(new Accept(N(1), "r", new Ballot(1, N(1)), "a"), 0);
        node.Advance(node.TakeReady());
        node.Step(new Prepare(N(3), "r", new Ballot(2, N(3))), 0);
        var promise = Assert.IsType<Promise>(Assert.Single(node.TakeReady().MessagesAfterPersist).Message);
        Assert.Equal((new Ballot(1, N(1)), "a"), (promise.AcceptedBallot, promise.AcceptedValue));
    }

    [Fact]
    public void Section2_2_an_acceptor_rebuilt_from_its_journal_keeps_its_promise_and_acceptance()
    {
        var net = Net();
        net[2].Step(new Prepare(N(3), "r", new Ballot(5, N(3))), 0);
        net[2].Step(new Accept(N(3), "r", new Ballot(5, N(3)), "x"), 0);
        net.Flush();
        net.DropAll();
        var restarted = net.Restart(N(2));
        restarted.Step(new Prepare(N(1), "r", new Ballot(4, N(1))), 0);
        var rejected = Assert.IsType<Rejected>(Assert.Single(restarted.TakeReady().MessagesAfterPersist).Message);
        Assert.Equal(new Ballot(5, N(3)), rejected.Promised);
        Assert.Equal("x", restarted.Acceptor.StateOf("r")!.AcceptedValue);
    }

    [Fact]
    public void Section2_2_a_proposer_writes_its_round_before_its_prepares_leave_and_a_restart_never_reuses_it()
    {
        var net = Net();
        net[1].Propose(1, "r", "a", 0);
        var ready = net[1].TakeReady();
        Assert.Contains(new RoundRecord(1), ready.Writes);
        Assert.Equal(2, ready.MessagesAfterPersist.Count(m => m.Message is Prepare { Ballot.Round: 1 }));
        Assert.Empty(ready.MessagesBeforePersist);
        net.Journals[N(1)].AddRange(ready.Writes);
        net[1].Advance(ready);

        var restarted = net.Restart(N(1));
        restarted.Propose(2, "s", "b", 0);
        Assert.Contains(restarted.TakeReady().MessagesAfterPersist, m => m.Message is Prepare { Ballot.Round: 2 });
    }

    [Fact]
    public void Section2_2_three_nodes_choose_the_proposed_value_and_every_learner_learns_it()
    {
        var net = Net();
        net[1].Propose(1, "r", "hello", 0);
        net.Deliver();
        var outcome = OutcomeOf(net, 1);
        Assert.Equal("hello", outcome.Value);
        Assert.Equal(new Ballot(1, N(1)), outcome.Ballot);
        foreach (var id in Ids) Assert.Equal("hello", net[id].Learner.ChosenOf("r")!.Value);
        Assert.Contains(outcome.Phases, p => p.Contains("sends Prepare", StringComparison.Ordinal));
        Assert.Contains(outcome.Phases, p => p.Contains("is chosen", StringComparison.Ordinal));
    }

    [Fact]
    public void Section2_2_P2c_a_higher_ballot_adopts_the_value_a_promise_reports_accepted_instead_of_its_own()
    {
        var net = Net();
        // Acceptor 2 alone accepted "a" at 1.1: accepted, not chosen.
        net[2].Step(new Accept(N(1), "r", new Ballot(1, N(1)), "a"), 0);
        net.Flush();
        net.DropAll();

        // Node 3's majority is itself and acceptor 2 (node 1's promise is lost): it must propose "a", not "b".
        net[3].Propose(2, "r", "b", 0);
        net.Deliver((from, to, m) => !(m is Promise && from == N(1)));
        var outcome = OutcomeOf(net, 2);
        Assert.Equal("a", outcome.Value);
        Assert.Contains(outcome.Phases, p => p.Contains("adopts 'a'", StringComparison.Ordinal));
        Assert.All(Ids, id => Assert.Equal("a", net[id].Learner.ChosenOf("r")!.Value));
    }

    [Fact]
    public void Section2_2_a_read_round_finds_a_chosen_value_a_learner_missed_and_reports_none_when_nothing_was_accepted()
    {
        var net = Net();
        net[1].Read(1, "empty", 0);
        net.Deliver();
        Assert.Null(OutcomeOf(net, 1).Value);

        net[1].Propose(2, "r", "v", 0);
        net.Deliver((from, to, m) => m is not Chosen || to != N(3));
        Assert.Null(net[3].Learner.ChosenOf("r"));
        // Node 3's first ballot (1.3) is below the promises node 1's rounds left: rejected, it backs off and retries higher.
        net[3].Read(3, "r", 0);
        for (long now = 0; now <= 5_000 && !net.Answers.Any(a => a.Answer is Outcome { RequestId: 3 }); now += 50)
        {
            net.Tick(now);
            net.Deliver(nowMs: now);
        }
        Assert.Equal("v", OutcomeOf(net, 3).Value);
        Assert.Equal("v", net[3].Learner.ChosenOf("r")!.Value);
    }

    [Fact]
    public void Section2_4_a_rejected_proposer_backs_off_then_retries_with_a_ballot_above_the_one_that_beat_it()
    {
        var net = Net();
        net[2].Step(new Prepare(N(3), "r", new Ballot(9, N(3))), 0);
        net[3].Step(new Prepare(N(3), "r", new Ballot(9, N(3))), 0);
        net.Flush();
        net.DropAll();
        net[1].Propose(1, "r", "a", 0);
        net.Deliver(rounds: 2);
        Assert.Contains(net.Answers, a => a.Answer is PhaseEvent p && p.Text.Contains("backs off", StringComparison.Ordinal));
        Assert.DoesNotContain(net.Answers, a => a.Answer is Outcome);

        net.Tick(5_000); // past any backoff
        Assert.Contains(net.InFlight, m => m.Message is Prepare { Ballot.Round: 10 } p && p.Ballot.Node == N(1));
        net.Deliver(nowMs: 5_000);
        Assert.Equal("a", OutcomeOf(net, 1).Value);
    }

    [Fact]
    public void A_proposer_that_hears_nothing_retries_after_its_round_timeout_and_gives_up_after_its_attempts()
    {
        var options = new RegisterProposerOptions { RoundTimeoutMs = 100, AttemptsMax = 3, Backoff = new PaxosBackoff(10, 20) };
        var node = new RegisterNode(N(1), Ids, new DeterministicRandom(1), options: options);
        node.Propose(1, "r", "a", 0);
        var answers = new List<object>();
        for (long now = 0; now < 2_000; now += 10)
        {
            node.Tick(now);
            while (node.HasReady)
            {
                var ready = node.TakeReady();
                answers.AddRange(ready.Answers);
                node.Advance(ready);
            }
        }
        var failed = Assert.Single(answers.OfType<NotDecided>());
        Assert.Equal(1, failed.RequestId);
        Assert.Equal(3, node.Proposer.RoundsBegun);
    }
}

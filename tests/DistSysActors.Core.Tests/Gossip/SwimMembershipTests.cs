using DistSysActors.Core.Gossip;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Tests.Gossip;

/// <summary>The SWIM core, rule by rule (section numbers of Das, Gupta, Motivala 2002; Lifeguard 2018 for the timeout).</summary>
public class SwimMembershipTests
{
    private static readonly NodeId A = new(1), B = new(2), C = new(3), D = new(4), E = new(5), F = new(6);
    private static readonly SwimConfig Config = new() { PeriodMs = 1_000, PingTimeoutMs = 300, IndirectProbes = 2, SyncEveryRounds = 0 };

    private static SwimMembership Node(NodeId self, NodeId[]? members = null, SwimConfig? config = null) =>
        new(self, members ?? [A, B, C, D], config ?? Config, new DeterministicRandom(7));

    private static List<Outgoing<SwimMessage>> Take(SwimMembership core)
    {
        var ready = core.TakeReady();
        core.Advance(ready);
        return [.. ready.MessagesAfterPersist];
    }

    [Fact]
    public void Section_3_1_each_period_probes_one_member_and_an_ack_in_time_asks_nobody_else()
    {
        var a = Node(A);
        a.Tick(0);
        var ping = Assert.Single(Take(a));
        var p = Assert.IsType<SwimPing>(ping.Message);
        a.Step(new SwimAck(ping.To, p.Seq, []), 50);
        a.Tick(400);
        Assert.Empty(Take(a));
        a.Tick(1_000);
        var next = Assert.Single(Take(a));
        Assert.IsType<SwimPing>(next.Message);
        Assert.NotEqual(ping.To, next.To); // round robin: another member next period
        Assert.Equal(MemberState.Alive, a.StateOf(ping.To));
        Assert.Equal(2, a.Rounds);
    }

    [Fact]
    public void Section_3_1_no_ack_by_the_ping_timeout_sends_ping_req_to_k_others_and_none_by_the_period_end_makes_the_target_suspect()
    {
        var a = Node(A);
        a.Tick(0);
        var ping = Assert.Single(Take(a));
        var seq = ((SwimPing)ping.Message).Seq;
        a.Tick(299);
        Assert.Empty(Take(a));
        a.Tick(300);
        var reqs = Take(a);
        Assert.Equal(2, reqs.Count);
        Assert.All(reqs, r => Assert.Equal(new SwimPingReq(A, seq, ping.To, []) with { Updates = ((SwimPingReq)r.Message).Updates }, r.Message));
        Assert.DoesNotContain(reqs, r => r.To == ping.To || r.To == A);
        a.Tick(1_000);
        Assert.Equal(MemberState.Suspect, a.StateOf(ping.To));
        Assert.Equal(1, a.SuspicionsRaised);
        // The suspicion rides on the next probe.
        var next = Take(a).Single(m => m.Message is SwimPing);
        Assert.Contains(new MemberUpdate(ping.To, MemberState.Suspect, 0, A), next.Message.Updates);
    }

    [Fact]
    public void Section_3_1_an_ack_relayed_by_an_intermediary_keeps_the_target_alive()
    {
        var a = Node(A);
        a.Tick(0);
        var ping = Assert.Single(Take(a));
        var seq = ((SwimPing)ping.Message).Seq;
        a.Tick(300);
        var helper = Take(a)[0].To;
        // The helper probes the target under its own sequence number and relays the answer under ours.
        var h = Node(helper);
        h.Step(new SwimPingReq(A, seq, ping.To, []), 310);
        var indirect = Assert.Single(Take(h));
        Assert.Equal(ping.To, indirect.To);
        h.Step(new SwimAck(ping.To, ((SwimPing)indirect.Message).Seq, []), 320);
        var relayed = Assert.Single(Take(h));
        Assert.Equal(A, relayed.To);
        Assert.Equal(seq, ((SwimAck)relayed.Message).Seq);
        a.Step(relayed.Message, 330);
        a.Tick(1_000);
        Assert.Equal(MemberState.Alive, a.StateOf(ping.To));
        Assert.Equal(0, a.SuspicionsRaised);
    }

    [Fact]
    public void Section_4_2_a_member_suspected_at_its_incarnation_refutes_by_raising_it_and_the_refutation_clears_the_suspicion()
    {
        var b = Node(B);
        b.Step(new SwimAck(A, 99, [new MemberUpdate(B, MemberState.Suspect, 0, A)]), 10);
        Assert.Equal(1, b.Incarnation);
        Assert.Equal(1, b.Refutations);
        b.Tick(20);
        var refutation = Take(b).Single(m => m.Message is SwimPing).Message.Updates;
        Assert.Contains(new MemberUpdate(B, MemberState.Alive, 1, B), refutation);

        var c = Node(C);
        c.Step(new SwimAck(A, 99, [new MemberUpdate(B, MemberState.Suspect, 0, A)]), 10);
        Assert.Equal(MemberState.Suspect, c.StateOf(B));
        c.Step(new SwimAck(B, 98, refutation), 20);
        Assert.Equal((MemberState.Alive, 1L), (c.StateOf(B)!.Value, c.IncarnationOf(B)!.Value));
        Assert.Empty(c.CheckInvariants());
    }

    [Fact]
    public void Section_4_2_precedence_suspect_beats_alive_at_the_same_incarnation_dead_beats_both_and_old_news_changes_nothing()
    {
        var c = Node(C);
        c.Step(new SwimAck(A, 1, [new MemberUpdate(B, MemberState.Alive, 2, B)]), 0);
        c.Step(new SwimAck(A, 2, [new MemberUpdate(B, MemberState.Suspect, 1, A)]), 1);
        Assert.Equal((MemberState.Alive, 2L), (c.StateOf(B)!.Value, c.IncarnationOf(B)!.Value));
        c.Step(new SwimAck(A, 3, [new MemberUpdate(B, MemberState.Suspect, 2, A)]), 2);
        Assert.Equal(MemberState.Suspect, c.StateOf(B));
        c.Step(new SwimAck(A, 4, [new MemberUpdate(B, MemberState.Alive, 2, B)]), 3);
        Assert.Equal(MemberState.Suspect, c.StateOf(B));
        c.Step(new SwimAck(A, 5, [new MemberUpdate(B, MemberState.Dead, 2, A)]), 4);
        Assert.Equal(MemberState.Dead, c.StateOf(B));
        c.Step(new SwimAck(A, 6, [new MemberUpdate(B, MemberState.Suspect, 2, D)]), 5);
        Assert.Equal(MemberState.Dead, c.StateOf(B));
        // Only the member's own later incarnation brings it back.
        c.Step(new SwimAck(A, 7, [new MemberUpdate(B, MemberState.Alive, 3, B)]), 6);
        Assert.Equal((MemberState.Alive, 3L), (c.StateOf(B)!.Value, c.IncarnationOf(B)!.Value));
    }

    [Theory]
    [InlineData(5, 0, 15_000)]
    [InlineData(5, 1, 10_000)] // 15 s - 10 s·log 2 / log 4
    [InlineData(5, 2, 7_075)]
    [InlineData(5, 5, 5_000)]
    [InlineData(100, 0, 30_000)]
    [InlineData(2, 0, 5_000)]
    public void Lifeguard_3_3_the_suspicion_timeout_shrinks_with_independent_confirmations_down_to_its_minimum(int members, int confirmations, long expectedMs)
    {
        // α = 5, β = 3, period 1 s: min = 5·max(1, log10 N) s, max = 3·min, K = min(α - 2, N - 2).
        Assert.Equal(expectedMs, Config.SuspicionTimeoutMs(members, confirmations));
    }

    [Fact]
    public void Lifeguard_3_3_a_suspect_is_declared_dead_at_its_computed_deadline_sooner_with_confirmations()
    {
        var alone = Node(A, [A, B, C, D, E]);
        alone.Step(new SwimAck(C, 1, [new MemberUpdate(B, MemberState.Suspect, 0, C)]), 1_000);
        Assert.Equal(1_000 + Config.SuspicionTimeoutMs(5, 0), alone.SuspicionDeadlineMs(B));
        alone.Tick(1_000 + Config.SuspicionTimeoutMs(5, 0) - 1);
        Assert.Equal(MemberState.Suspect, alone.StateOf(B));
        alone.Tick(1_000 + Config.SuspicionTimeoutMs(5, 0));
        Assert.Equal(MemberState.Dead, alone.StateOf(B));

        // K = min(α - 2, N - 2) = 3 confirmations beyond the first bring it down to the minimum.
        var confirmed = Node(A, [A, B, C, D, E, F]);
        confirmed.Step(new SwimAck(C, 1, [new MemberUpdate(B, MemberState.Suspect, 0, C)]), 1_000);
        confirmed.Step(new SwimAck(D, 2, [new MemberUpdate(B, MemberState.Suspect, 0, D)]), 1_100);
        confirmed.Step(new SwimAck(E, 3, [new MemberUpdate(B, MemberState.Suspect, 0, E)]), 1_200);
        confirmed.Step(new SwimAck(F, 4, [new MemberUpdate(B, MemberState.Suspect, 0, F)]), 1_300);
        Assert.Equal(4, confirmed.ConfirmationsOf(B));
        confirmed.Tick(1_000 + Config.SuspicionMinMs(6) - 1);
        Assert.Equal(MemberState.Suspect, confirmed.StateOf(B));
        confirmed.Tick(1_000 + Config.SuspicionMinMs(6));
        Assert.Equal(MemberState.Dead, confirmed.StateOf(B));
        var announced = confirmed.TakeReady().Answers.OfType<MemberStateChanged>().Where(c => c.Member == B).Select(c => c.State);
        Assert.Equal([MemberState.Suspect, MemberState.Dead], announced);
    }

    [Fact]
    public void Section_4_1_an_update_is_piggybacked_lambda_log_n_times_then_dropped()
    {
        var config = Config with { RetransmitMult = 2 };
        var a = Node(A, [A, B, C, D], config);
        Take(a);
        a.Step(new SwimAck(B, 1, [new MemberUpdate(C, MemberState.Suspect, 0, B)]), 0);
        var limit = config.RetransmitLimit(4); // 2·⌈log10 5⌉ = 2
        Assert.Equal(2, limit);
        var carried = 0;
        for (var i = 0; i < 5; i++)
        {
            a.Step(new SwimPing(D, 10 + i, []), i + 1);
            if (Take(a).Single().Message.Updates.Contains(new MemberUpdate(C, MemberState.Suspect, 0, B))) carried++;
        }
        Assert.Equal(limit, carried);
    }

    [Fact]
    public void A_message_from_an_unknown_node_is_a_join_it_is_added_alive_and_sent_our_whole_view()
    {
        var a = Node(A, [A, B]);
        a.Step(new SwimPing(E, 1, [new MemberUpdate(E, MemberState.Alive, 0, E)]), 5);
        Assert.Equal(MemberState.Alive, a.StateOf(E));
        var sent = Take(a);
        var sync = Assert.IsType<SwimSync>(sent.Single(m => m.Message is SwimSync).Message);
        Assert.False(sync.IsReply);
        Assert.Equal([A, B, E], sync.Updates.Select(u => u.Member));
        Assert.Contains(sent, m => m.To == E && m.Message is SwimAck);
    }

    [Fact]
    public void A_node_we_think_dead_hears_our_verdict_on_the_reply_and_refutes_it()
    {
        var a = Node(A, [A, B]);
        a.Step(new SwimAck(C, 1, [new MemberUpdate(B, MemberState.Dead, 0, C)]), 0);
        Take(a);
        a.Step(new SwimPing(B, 3, []), 10);
        var ack = Assert.IsType<SwimAck>(Take(a).Single().Message);
        Assert.Equal(new MemberUpdate(B, MemberState.Dead, 0, C), ack.Updates[0]);
        var b = Node(B, [A, B]);
        b.Step(ack, 20);
        Assert.Equal(1, b.Incarnation);
    }

    [Fact]
    public void A_leaving_node_tells_others_it_is_dead_by_its_own_word_and_then_stays_silent()
    {
        var b = Node(B);
        Take(b);
        b.Leave(100);
        var sent = Take(b);
        Assert.NotEmpty(sent);
        var a = Node(A);
        a.Step(sent[0].Message, 110);
        Assert.Equal(MemberState.Dead, a.StateOf(B));
        b.Tick(2_000);
        b.Step(new SwimPing(A, 1, []), 2_001);
        Assert.False(b.HasReady);
    }

    [Fact]
    public void A_push_pull_sync_is_answered_with_the_whole_view_and_merges_both_ways()
    {
        var a = Node(A, [A, B]);
        var c = Node(C, [C, D]);
        Take(a);
        Take(c);
        c.Step(new SwimSync(A, false, [new MemberUpdate(A, MemberState.Alive, 0, A), new MemberUpdate(B, MemberState.Alive, 0, A)]), 0);
        var reply = Assert.IsType<SwimSync>(Take(c).Single(m => m.Message is SwimSync && m.To == A).Message);
        Assert.True(reply.IsReply);
        a.Step(reply, 1);
        Assert.Equal(MemberState.Alive, a.StateOf(D));
        Assert.Equal(MemberState.Alive, c.StateOf(B));
    }

    [Fact]
    public void A_bad_configuration_is_refused_naming_the_field()
    {
        var e = Assert.Throws<ArgumentException>(() => Node(A, config: Config with { PingTimeoutMs = 1_000 }));
        Assert.Contains("PingTimeoutMs", e.Message);
    }
}

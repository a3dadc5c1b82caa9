using DistSysActors.Core.FailureDetection;

namespace DistSysActors.Core.Tests.FailureDetection;

public sealed class HeartbeatMonitorTests
{
    private static NodeId N(int id) => new(id);

    /// <summary>Monitors that exchange messages instantly; nodes in <see cref="Silent"/> neither answer nor send.</summary>
    private sealed class Cluster
    {
        public Cluster(int size, HeartbeatSettings settings)
        {
            var ids = Enumerable.Range(1, size).Select(N).ToArray();
            Monitors = ids.ToDictionary(id => id, id => new HeartbeatMonitor(id, ids, settings, 0));
        }

        public Dictionary<NodeId, HeartbeatMonitor> Monitors { get; }
        public HashSet<NodeId> Silent { get; } = [];
        public List<ReachabilityEvent> Events { get; } = [];
        public long Requests { get; private set; }
        public long Responses { get; private set; }

        public void RunUntil(long fromMs, long toMs, long tickMs = 100)
        {
            for (var now = fromMs; now <= toMs; now += tickMs)
            {
                foreach (var (id, monitor) in Monitors.OrderBy(m => m.Key))
                    if (!Silent.Contains(id)) monitor.Tick(now);
                Deliver(now);
            }
        }

        private void Deliver(long now)
        {
            var pending = new Queue<HeartbeatMessage>();
            foreach (var (id, monitor) in Monitors.OrderBy(m => m.Key))
            {
                var ready = monitor.TakeReady();
                Events.AddRange(ready.Events);
                if (!Silent.Contains(id)) foreach (var m in ready.Messages) pending.Enqueue(m);
            }
            while (pending.TryDequeue(out var message))
            {
                if (message is HeartbeatRequest) Requests++; else Responses++;
                if (Silent.Contains(message.To)) continue;
                var target = Monitors[message.To];
                target.Step(message, now);
                var ready = target.TakeReady();
                Events.AddRange(ready.Events);
                foreach (var m in ready.Messages) pending.Enqueue(m);
            }
        }
    }

    [Fact]
    public void Each_interval_sends_n_times_k_requests_and_gets_as_many_responses()
    {
        var cluster = new Cluster(12, new HeartbeatSettings { MonitoredByCount = 3 });
        cluster.RunUntil(0, 9_900);
        // Ticks at 0, 1000, ..., 9000: ten heartbeat rounds of 12 × 3 requests.
        Assert.Equal(10 * 12 * 3, cluster.Requests);
        Assert.Equal(cluster.Requests, cluster.Responses);
        Assert.Empty(cluster.Events);
        foreach (var (id, monitor) in cluster.Monitors)
        {
            Assert.Equal(monitor.Ring.Receivers(id).Order(), monitor.MonitoredPeers);
            Assert.All(monitor.Snapshot(9_900), s => Assert.True(s.Monitoring && s.Available && s.LastHeartbeatAgeMs == 900));
        }
    }

    [Fact]
    public void Default_monitored_by_count_is_akkas_nine_capped_at_n_minus_1()
    {
        Assert.Equal(9, new HeartbeatSettings().MonitoredByCount);
        var small = new HeartbeatMonitor(N(1), [N(1), N(2), N(3), N(4)], new HeartbeatSettings(), 0);
        Assert.Equal([N(2), N(3), N(4)], small.MonitoredPeers);
        var large = new HeartbeatMonitor(N(1), Enumerable.Range(1, 15).Select(N), new HeartbeatSettings(), 0);
        Assert.Equal(Enumerable.Range(2, 9).Select(N), large.MonitoredPeers);
    }

    [Fact]
    public void A_silent_peer_is_reported_unreachable_once_by_each_monitor_and_reachable_when_it_returns()
    {
        var cluster = new Cluster(5, new HeartbeatSettings { MonitoredByCount = 2 });
        cluster.RunUntil(0, 30_000);
        Assert.Empty(cluster.Events);
        cluster.Silent.Add(N(3));
        cluster.RunUntil(30_100, 60_000);
        var unreachable = cluster.Events.OfType<PeerUnreachable>().Where(e => e.Peer == N(3)).ToList();
        // Node 3 is monitored by 1 and 2; its last answers arrived at 30 000.
        Assert.Equal([N(1), N(2)], unreachable.Select(e => e.Observer));
        Assert.All(unreachable, e =>
        {
            Assert.Equal(N(3), e.Peer);
            Assert.InRange(e.AtMs - 30_000, 4_500, 4_600);
            Assert.True(e.Phi >= 8.0);
            Assert.Equal(e.AtMs - 30_000, e.LastHeartbeatAgeMs);
        });
        Assert.False(cluster.Monitors[N(1)].IsAvailable(N(3), 60_000));
        Assert.Contains(cluster.Monitors[N(2)].Snapshot(60_000), s => s.NodeId == N(3) && !s.Available);
        cluster.Silent.Remove(N(3));
        cluster.RunUntil(60_100, 62_000);
        var reachable = cluster.Events.OfType<PeerReachable>().Where(e => e.Peer == N(3)).ToList();
        Assert.Equal([N(1), N(2)], reachable.Select(e => e.Observer).Order());
        // Node 3 itself, paused meanwhile, finds its own peers silent on resuming and then hears them again.
        Assert.All(cluster.Events.Where(e => e.Peer != N(3)), e => Assert.Equal(N(3), e.Observer));
    }

    [Fact]
    public void A_peer_that_never_answers_is_suspected_after_expected_response_after()
    {
        var cluster = new Cluster(3, new HeartbeatSettings());
        cluster.Silent.Add(N(2));
        cluster.RunUntil(0, 20_000);
        var first = cluster.Events.OfType<PeerUnreachable>().First(e => e.Observer == N(1));
        Assert.Equal(N(2), first.Peer);
        // Monitoring starts at 1 000 ms with the bootstrap history, so suspicion follows about 5.3 s later.
        Assert.InRange(first.AtMs, 6_000, 7_000);
    }

    [Fact]
    public void A_peer_is_heard_from_only_once_its_answer_arrives_though_it_counts_as_available_before()
    {
        var cluster = new Cluster(3, new HeartbeatSettings());
        cluster.Silent.Add(N(2));
        // Past expected-response-after: node 1 monitors node 2 without an answer; it is not suspected yet.
        cluster.RunUntil(0, 2_000);
        var monitor = cluster.Monitors[N(1)];
        var two = monitor.Snapshot(2_000).Single(s => s.NodeId == N(2));
        Assert.True(two.Available && two.Monitoring, "no history to suspect node 2 from yet");
        Assert.False(two.HeardFrom);
        Assert.False(monitor.HasHeardFrom(N(2)));
        Assert.True(monitor.HasHeardFrom(N(3)));
        Assert.True(monitor.Snapshot(2_000).Single(s => s.NodeId == N(3)).HeardFrom);
        cluster.Silent.Remove(N(2));
        cluster.RunUntil(2_100, 3_000);
        Assert.True(monitor.HasHeardFrom(N(2)));
        Assert.True(monitor.Snapshot(3_000).Single(s => s.NodeId == N(2)).HeardFrom);
    }

    [Fact]
    public void Duplicated_and_stale_responses_are_ignored()
    {
        var monitor = new HeartbeatMonitor(N(1), [N(2)], new HeartbeatSettings(), 0);
        monitor.Tick(0);
        var request1 = Assert.IsType<HeartbeatRequest>(Assert.Single(monitor.TakeReady().Messages));
        monitor.Tick(1_000);
        var request2 = Assert.IsType<HeartbeatRequest>(Assert.Single(monitor.TakeReady().Messages));
        Assert.True(request2.SequenceNr > request1.SequenceNr);
        monitor.Step(new HeartbeatResponse(N(2), N(1), request2.SequenceNr, request2.SentAtMs), 1_010);
        monitor.Step(new HeartbeatResponse(N(2), N(1), request2.SequenceNr, request2.SentAtMs), 1_020);
        monitor.Step(new HeartbeatResponse(N(2), N(1), request1.SequenceNr, request1.SentAtMs), 1_030);
        monitor.Step(new HeartbeatResponse(N(9), N(1), 99, 0), 1_040);
        Assert.Equal(3, monitor.ResponsesIgnored);
        Assert.Equal(10L, Assert.Single(monitor.Snapshot(1_020)).LastHeartbeatAgeMs);
    }

    [Fact]
    public void Requests_are_answered_echoing_sequence_number_and_send_time()
    {
        var monitor = new HeartbeatMonitor(N(2), [N(1)], new HeartbeatSettings(), 0);
        monitor.Step(new HeartbeatRequest(N(1), N(2), 17, 4_321), 4_400);
        Assert.Equal(new HeartbeatResponse(N(2), N(1), 17, 4_321), Assert.Single(monitor.TakeReady().Messages));
    }

    [Fact]
    public void A_late_tick_keeps_the_schedule_without_a_burst()
    {
        var monitor = new HeartbeatMonitor(N(1), [N(2)], new HeartbeatSettings(), 0);
        monitor.Tick(0);
        monitor.Tick(1_350);
        monitor.Tick(1_999);
        monitor.Tick(2_000);
        monitor.Tick(9_000);
        monitor.Tick(9_999);
        monitor.Tick(10_000);
        var sentAt = monitor.TakeReady().Messages.Cast<HeartbeatRequest>().Select(r => r.SentAtMs);
        Assert.Equal([0L, 1_350, 2_000, 9_000, 10_000], sentAt);
    }

    [Fact]
    public void A_receiver_dropped_while_suspected_is_heartbeated_until_it_answers()
    {
        var settings = new HeartbeatSettings { MonitoredByCount = 1 };
        var monitor = new HeartbeatMonitor(N(1), [N(3), N(4)], settings, 0);
        Assert.Equal([N(3)], monitor.MonitoredPeers);
        monitor.Tick(0);
        var request = (HeartbeatRequest)monitor.TakeReady().Messages.Single();
        monitor.Step(new HeartbeatResponse(N(3), N(1), request.SequenceNr, 0), 0);
        monitor.Tick(10_000);
        Assert.IsType<PeerUnreachable>(Assert.Single(monitor.TakeReady().Events));
        // Node 2 joins and takes node 3's place as node 1's receiver.
        monitor.UpdateMembership([N(2), N(3), N(4)], [N(3)], 10_000);
        Assert.Equal([N(2), N(3)], monitor.MonitoredPeers);
        monitor.Tick(11_000);
        var requests = monitor.TakeReady().Messages.Cast<HeartbeatRequest>().ToList();
        Assert.Equal([N(2), N(3)], requests.Select(r => r.To));
        monitor.Step(new HeartbeatResponse(N(3), N(1), requests[1].SequenceNr, 11_000), 11_005);
        Assert.Equal(new PeerReachable(N(1), N(3), 11_005), Assert.Single(monitor.TakeReady().Events));
        Assert.Equal([N(2)], monitor.MonitoredPeers);
    }

    [Fact]
    public void A_removed_member_is_no_longer_monitored()
    {
        var monitor = new HeartbeatMonitor(N(1), [N(2), N(3)], new HeartbeatSettings(), 0);
        monitor.UpdateMembership([N(3)], [], 0);
        Assert.Equal([N(3)], monitor.MonitoredPeers);
        monitor.Tick(0);
        Assert.Equal([N(3)], monitor.TakeReady().Messages.Select(m => m.To));
    }

    [Fact]
    public void The_fixed_timeout_detector_plugs_in_and_reports_no_phi()
    {
        var cluster = new Cluster(3, new HeartbeatSettings { Detector = new FixedTimeoutSettings { TimeoutMs = 2_000 } });
        cluster.RunUntil(0, 5_000);
        cluster.Silent.Add(N(3));
        cluster.RunUntil(5_100, 10_000);
        var e = cluster.Events.OfType<PeerUnreachable>().First(e => e.Observer == N(1));
        Assert.Equal(N(3), e.Peer);
        Assert.Null(e.Phi);
        Assert.Equal(7_100L, e.AtMs);
    }

    [Fact]
    public void The_outbox_is_bounded_and_counts_what_it_drops()
    {
        var monitor = new HeartbeatMonitor(N(1), [N(2)], new HeartbeatSettings(), 0);
        for (var i = 0; i < HeartbeatMonitor.OutboxMessagesMax + 5; i++)
            monitor.Step(new HeartbeatRequest(N(2), N(1), i + 1, i), i);
        Assert.Equal(5, monitor.MessagesDropped);
        Assert.Equal(HeartbeatMonitor.OutboxMessagesMax, monitor.TakeReady().Messages.Length);
        Assert.True(monitor.TakeReady().IsEmpty);
    }

    [Fact]
    public void Settings_validation_names_each_bad_field()
    {
        var errors = new HeartbeatSettings
        {
            HeartbeatIntervalMs = 0, MonitoredByCount = 0, ExpectedResponseAfterMs = -1, Detector = new PhiAccrualSettings { Threshold = -1 },
        }.Validate();
        foreach (var field in new[] { "HeartbeatIntervalMs", "MonitoredByCount", "ExpectedResponseAfterMs", "PhiAccrualSettings.Threshold" })
            Assert.Contains(errors, e => e.Contains(field));
        Assert.Throws<ArgumentException>(() => new HeartbeatMonitor(N(1), [], new HeartbeatSettings { HeartbeatIntervalMs = -1 }, 0));
    }
}

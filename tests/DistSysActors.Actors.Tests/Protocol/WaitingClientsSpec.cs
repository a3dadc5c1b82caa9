using Akka.Actor;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Protocol;
using Xunit.Abstractions;

namespace DistSysActors.Actors.Tests.Protocol;

/// <summary>The kit's record of clients waiting for an answer by request id: bound, expiry, tags.</summary>
public sealed class WaitingClientsSpec(ITestOutputHelper output) : TestKit(output: output)
{
    private sealed record Ask(TimeSpan? ExpireAfter = null);
    private sealed record Taken(long Id);
    private sealed record Answer(long Id);
    private sealed record Learned(long Id, string Tag);
    private sealed record Expired(long Id);

    /// <summary>A host actor in miniature: takes requests, answers them when told, tells an expired client what it knew.</summary>
    private sealed class Host : ReceiveActor, IWithTimers
    {
        public ITimerScheduler Timers { get; set; } = null!;

        public Host(int max)
        {
            var waiting = new WaitingClients<string?>("requests waiting", max, () => Timers);
            Receive<Ask>(a =>
            {
                if (waiting.Overloaded is { } overloaded) { Sender.Tell(overloaded); return; }
                var id = waiting.NextId();
                waiting.Add(id, Sender, null, a.ExpireAfter, a.ExpireAfter is null ? null : new Expired(id));
                Sender.Tell(new Taken(id));
            });
            Receive<Learned>(l => Sender.Tell(waiting.SetTag(l.Id, l.Tag)));
            Receive<Answer>(a =>
            {
                if (waiting.TryRemove(a.Id, out var client, out var tag)) client.Tell($"answer {a.Id} ({tag ?? "no tag"})");
            });
            Receive<Expired>(e =>
            {
                if (waiting.TryRemove(e.Id, out var client, out var tag)) client.Tell($"expired {e.Id} ({tag ?? "no tag"})");
            });
        }
    }

    [Fact]
    public void Each_answer_reaches_its_own_client_once_and_beyond_the_bound_a_client_is_refused_at_once()
    {
        var host = Sys.ActorOf(Props.Create(() => new Host(2)));
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        host.Tell(new Ask(), first.Ref);
        host.Tell(new Ask(), second.Ref);
        var (a, b) = (first.ExpectMsg<Taken>().Id, second.ExpectMsg<Taken>().Id);
        Assert.NotEqual(a, b);

        host.Tell(new Ask(), TestActor);
        ExpectMsg("overloaded: 2 requests waiting");

        host.Tell(new Answer(b));
        second.ExpectMsg($"answer {b} (no tag)");
        host.Tell(new Answer(b)); // answered already: nobody hears it again
        host.Tell(new Answer(a));
        first.ExpectMsg($"answer {a} (no tag)");
        second.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        // Room again.
        host.Tell(new Ask(), TestActor);
        Assert.True(ExpectMsg<Taken>().Id > Math.Max(a, b));
    }

    [Fact]
    public void An_unanswered_request_expires_with_what_was_learned_and_an_answered_one_does_not()
    {
        var host = Sys.ActorOf(Props.Create(() => new Host(10)));
        host.Tell(new Ask(TimeSpan.FromMilliseconds(300)));
        var slow = ExpectMsg<Taken>().Id;
        host.Tell(new Learned(slow, "begun"));
        ExpectMsg(true);
        ExpectMsg($"expired {slow} (begun)", TimeSpan.FromSeconds(5));
        host.Tell(new Learned(slow, "late"));
        ExpectMsg(false);

        host.Tell(new Ask(TimeSpan.FromMilliseconds(300)));
        var quick = ExpectMsg<Taken>().Id;
        host.Tell(new Answer(quick));
        ExpectMsg($"answer {quick} (no tag)");
        ExpectNoMsg(TimeSpan.FromMilliseconds(600)); // its expiry was cancelled
    }
}

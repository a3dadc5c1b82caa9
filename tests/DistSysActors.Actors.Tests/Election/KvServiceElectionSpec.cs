using Akka.TestKit.Xunit2;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.StateMachine;
using DistSysActors.Core.KeyValue;
using static DistSysActors.Actors.KeyValue.ElectionProtocol;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Actors.Tests.Election;

/// <summary>Leases and fenced registers through the key-value service: the leader clock written before each lease command, tokens, refusals, reads.</summary>
public sealed class KvServiceElectionSpec : TestKit
{
    private sealed class LeaderLog : IConsensusLog
    {
        public bool IsLeader => true;
        public List<byte[]> Entries { get; } = [];
        public List<long> Reads { get; } = [];
        public int Applied { get; private set; }
        public string? Propose(byte[] command) { Entries.Add(command); return null; }
        public void ConfirmRead(long requestId, bool lease) => Reads.Add(requestId);
        public KvCommand? this[long index] => KvCodec.Decode(Entries[(int)index - 1]);

        public void CommitAll(KvService service)
        {
            while (Applied < Entries.Count) service.Apply(++Applied, Entries[Applied - 1]);
        }
    }

    [Fact]
    public void A_campaign_is_judged_by_a_leader_clock_written_just_before_it_and_the_fenced_register_refuses_the_older_token()
    {
        var log = new LeaderLog();
        var service = new KvService(log, KvSettings.Default, TimeSpan.FromSeconds(5));
        var a = CreateTestProbe();
        var b = CreateTestProbe();

        service.Receive(new Campaign("lock", "\"a\"", 60_000), a.Ref);
        log.CommitAll(service);
        var won = a.ExpectMsg<WriteResult>();
        Assert.Equal(KvStatus.Ok, won.Status);
        Assert.IsType<KvClock>(log[won.Index - 1]); // the clock entry right before the winning one
        Assert.Equal(new LeaseAnswer("\"a\"", won.Index, 60_000), LeaseAnswer.Parse(won.Current));

        service.Receive(new Campaign("lock", "\"b\"", 60_000), b.Ref);
        log.CommitAll(service);
        var refused = b.ExpectMsg<WriteResult>();
        Assert.Equal((KvStatus.LeaseRefused, "\"a\"", won.Index), (refused.Status, LeaseAnswer.Parse(refused.Current)!.Holder, LeaseAnswer.Parse(refused.Current)!.Token));

        service.Receive(new FencedPut("r", won.Index + 10, "newer"), b.Ref);
        log.CommitAll(service);
        Assert.Equal(KvStatus.Ok, b.ExpectMsg<WriteResult>().Status);
        service.Receive(new FencedPut("r", won.Index, "late"), a.Ref);
        log.CommitAll(service);
        var fenced = a.ExpectMsg<WriteResult>();
        Assert.Equal((KvStatus.Fenced, (won.Index + 10).ToString(System.Globalization.CultureInfo.InvariantCulture)), (fenced.Status, fenced.Current));

        // Reads are confirmed with the leader like key-value reads, then served from the applied state.
        service.Receive(new GetLease("lock"), a.Ref);
        service.Receive(new GetFenced("r"), a.Ref);
        foreach (var id in log.Reads) service.ReadConfirmed(id);
        Assert.Equal(won.Index, a.ExpectMsg<LeaseState>().Lease!.Token);
        Assert.Equal(("newer", (long?)(won.Index + 10)), a.ExpectMsg<FencedState>() is var f ? (f.Value, f.HighestToken) : default);

        service.Receive(new Campaign("lock", "", 1_000), a.Ref);
        Assert.IsType<Rejected>(a.ExpectMsg<object>());
        service.Receive(new Campaign("lock", "a", 0), a.Ref);
        Assert.IsType<Rejected>(a.ExpectMsg<object>());
    }
}

using DistSysActors.Core.Election;
using DistSysActors.Core.KeyValue;
using DistSysActors.Core.Raft;

namespace DistSysActors.Core.Tests.Election;

/// <summary>Lease-based election and fenced registers in the replicated key-value state machine, judged by the leader clock in the log.</summary>
public sealed class LeaseElectionTests
{
    private readonly KeyValueStore _kv = new();
    private long _index;
    private long _nonce;

    private KvApplied Apply(KvCommand c) => _kv.Apply(new LogEntry(++_index, 1, EntryType.Normal, KvCodec.Encode(c)))!;

    private void Clock(long leaderTimeMs) => Assert.Null(_kv.Apply(new LogEntry(++_index, 1, EntryType.Normal, KvCodec.Encode(new KvClock(leaderTimeMs)))));

    private long Client() => Apply(new KvRegister(++_nonce)).RegisteredClientId!.Value;

    private KvApplied Campaign(string candidate, long ttlMs = 1_000, string name = "e") => Apply(new KvCampaign(Client(), 1, name, candidate, ttlMs));

    private KvApplied Renew(string candidate, long token) => Apply(new KvRenew(Client(), 1, "e", candidate, token));

    private KvApplied Resign(string candidate, long token) => Apply(new KvResign(Client(), 1, "e", candidate, token));

    private KvApplied Fenced(string key, long token, string value) => Apply(new KvFencedPut(Client(), 1, key, token, value));

    [Fact]
    public void A_free_lease_is_won_with_the_index_of_the_winning_entry_as_fencing_token()
    {
        Clock(10_000);
        var won = Campaign("a");
        Assert.Equal(KvStatus.Ok, won.Result.Status);
        Assert.Equal(new LeaseAnswer("a", won.Index, 1_000), LeaseAnswer.Parse(won.Result.Value));
        Assert.Equal(new Lease("a", won.Index, 11_000, 1_000), _kv.LeaseHolder("e"));
    }

    [Fact]
    public void A_held_lease_refuses_another_candidate_and_names_the_holder_until_the_leader_clock_passes_its_ttl()
    {
        Clock(10_000);
        var first = Campaign("a");
        var refused = Campaign("b");
        Assert.Equal(KvStatus.LeaseRefused, refused.Result.Status);
        Assert.Equal(("a", first.Index), (LeaseAnswer.Parse(refused.Result.Value)!.Holder, LeaseAnswer.Parse(refused.Result.Value)!.Token));

        Clock(10_999);
        Assert.Equal(KvStatus.LeaseRefused, Campaign("b").Result.Status);
        Clock(11_000); // the TTL ran out by the leader clock
        Assert.Null(_kv.LeaseHolder("e"));
        var second = Campaign("b");
        Assert.Equal(KvStatus.Ok, second.Result.Status);
        Assert.True(second.Index > first.Index, "tokens grow strictly");
    }

    [Fact]
    public void Fencing_tokens_are_strictly_increasing_across_many_elections()
    {
        long last = 0;
        for (var i = 0; i < 20; i++)
        {
            Clock(1_000 * (i + 1) * 10);
            var won = Campaign($"c{i % 3}", ttlMs: 500);
            Assert.Equal(KvStatus.Ok, won.Result.Status);
            var token = LeaseAnswer.Parse(won.Result.Value)!.Token;
            Assert.True(token > last, $"token {token} after {last}");
            last = token;
        }
    }

    [Fact]
    public void The_holder_campaigning_again_keeps_its_token_and_extends_its_lease()
    {
        Clock(10_000);
        var first = Campaign("a");
        Clock(10_500);
        var again = Campaign("a");
        Assert.Equal((KvStatus.Ok, first.Index, 1_000L), (again.Result.Status, LeaseAnswer.Parse(again.Result.Value)!.Token, LeaseAnswer.Parse(again.Result.Value)!.ExpiresInMs));
        Assert.Equal(11_500, _kv.LeaseHolder("e")!.ExpiresAtMs);
    }

    [Fact]
    public void Renew_extends_only_the_holders_live_lease_with_its_token()
    {
        Clock(10_000);
        var token = Campaign("a").Index;
        Clock(10_800);
        Assert.Equal(KvStatus.Ok, Renew("a", token).Result.Status);
        Assert.Equal(11_800, _kv.LeaseHolder("e")!.ExpiresAtMs);
        Assert.Equal(KvStatus.LeaseRefused, Renew("a", token + 1).Result.Status);
        Assert.Equal(KvStatus.LeaseRefused, Renew("b", token).Result.Status);
        Clock(11_800);
        var late = Renew("a", token); // expired: renewing is too late, the lease is lost
        Assert.Equal((KvStatus.LeaseRefused, (string?)null), (late.Result.Status, late.Result.Value));
    }

    [Fact]
    public void Resign_frees_the_lease_for_the_next_campaign_at_once_and_only_for_the_holder()
    {
        Clock(10_000);
        var token = Campaign("a").Index;
        Assert.Equal(KvStatus.LeaseRefused, Resign("b", token).Result.Status);
        Assert.Equal(KvStatus.Ok, Resign("a", token).Result.Status);
        Assert.Null(_kv.LeaseHolder("e"));
        Assert.Equal(KvStatus.Ok, Campaign("b").Result.Status);
    }

    [Fact]
    public void The_fenced_register_refuses_a_token_below_the_highest_it_has_seen_and_keeps_its_value()
    {
        Assert.Equal(KvStatus.Ok, Fenced("r", 5, "from 5").Result.Status);
        Assert.Equal(KvStatus.Ok, Fenced("r", 5, "again 5").Result.Status); // equal: the same holder writes again
        Assert.Equal(KvStatus.Ok, Fenced("r", 9, "from 9").Result.Status);
        var late = Fenced("r", 5, "late from 5");
        Assert.Equal((KvStatus.Fenced, "9"), (late.Result.Status, late.Result.Value));
        Assert.Equal((9L, "from 9"), _kv.Fenced("r"));
        Assert.Null(_kv.Fenced("other"));
    }

    [Fact]
    public void A_retried_campaign_under_the_same_session_is_answered_with_its_first_result()
    {
        Clock(10_000);
        var client = Client();
        var first = Apply(new KvCampaign(client, 1, "e", "a", 1_000));
        var retry = Apply(new KvCampaign(client, 1, "e", "a", 1_000));
        Assert.True(retry.Duplicate);
        Assert.Equal(first.Result, retry.Result);
        Assert.Equal(first.Index, _kv.LeaseHolder("e")!.Token);
    }

    [Fact]
    public void Leases_and_fenced_registers_survive_a_snapshot_and_expired_leases_are_swept_by_the_clock()
    {
        Clock(10_000);
        var token = Campaign("a").Index;
        Campaign("b", name: "other", ttlMs: 100);
        Fenced("r", token, "v");
        var copy = new KeyValueStore();
        copy.Restore(_kv.Snapshot());
        Assert.Equal(_kv.LeaseHolder("e"), copy.LeaseHolder("e"));
        Assert.Equal((token, "v"), copy.Fenced("r"));
        Assert.Equal(_kv.Snapshot(), copy.Snapshot());

        Clock(10_200);
        Assert.Equal(["e"], _kv.Leases.Select(l => l.Name));
    }

    [Fact]
    public void A_version_2_snapshot_written_before_leases_existed_restores_with_none()
    {
        Clock(10_000);
        Apply(new KvPut(Client(), 1, "k", "v"));
        var v3 = _kv.Snapshot();
        var v2 = v3[..^8]; // without the two empty tables (two int32 counts)
        v2[4] = 2;
        var old = new KeyValueStore();
        old.Restore(v2);
        Assert.Equal("v", old.Get("k"));
        Assert.Empty(old.Leases);
        Assert.Equal(v3, old.Snapshot()); // written back as version 3
    }

    [Fact]
    public void Election_commands_round_trip_through_the_codec()
    {
        KvCommand[] commands = [new KvCampaign(3, 4, "e", "\"a\"", 2_000), new KvRenew(3, 5, "e", "7", 12), new KvResign(3, 6, "e", "x", 12), new KvFencedPut(3, 7, "r", 12, "value")];
        foreach (var c in commands) Assert.Equal(c, KvCodec.Decode(KvCodec.Encode(c)));
        Assert.Throws<ArgumentException>(() => KvCodec.Encode(new KvCampaign(3, 4, "e", "a", 0)));
    }
}

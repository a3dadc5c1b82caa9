using System.Globalization;
using DistSysActors.Core.Election;

namespace DistSysActors.Core.KeyValue;

/// <summary>
/// Commands of the lease-based election and the fenced registers (<see cref="LeaseTable"/>, <see cref="FencedRegisters"/>),
/// carried in the key-value log under the client's session like any write. <see cref="KvCommand.Key"/> is the election's
/// name (a lease) or the register's key.
/// </summary>
public abstract record KvElectionCommand(long ClientId, long Sequence, string Key) : KvCommand(ClientId, Sequence, Key);

/// <summary>Campaigns for the lease <paramref name="Key"/>: won when it is free or expired by the leader clock; the fencing token is this entry's index.</summary>
public sealed record KvCampaign(long ClientId, long Sequence, string Key, string Candidate, long TtlMs) : KvElectionCommand(ClientId, Sequence, Key);

/// <summary>Extends the lease by its TTL when the candidate still holds it with the token.</summary>
public sealed record KvRenew(long ClientId, long Sequence, string Key, string Candidate, long Token) : KvElectionCommand(ClientId, Sequence, Key);

/// <summary>Gives the lease up when the candidate holds it with the token.</summary>
public sealed record KvResign(long ClientId, long Sequence, string Key, string Candidate, long Token) : KvElectionCommand(ClientId, Sequence, Key);

/// <summary>Writes the fenced register when the token is at least the highest the register has seen.</summary>
public sealed record KvFencedPut(long ClientId, long Sequence, string Key, long Token, string Value) : KvElectionCommand(ClientId, Sequence, Key);

/// <summary>
/// A lease as a lease command answers it (in <see cref="KvResult.Value"/>): holder, fencing token and the TTL left by the
/// leader clock at the entry's apply. A lease refused with no holder has no value.
/// </summary>
public sealed record LeaseAnswer(string Holder, long Token, long ExpiresInMs)
{
    public static LeaseAnswer Of(Lease lease, long nowMs) => new(lease.Holder, lease.Token, lease.RemainingMs(nowMs));

    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{Token} {ExpiresInMs} {Holder}");

    public static LeaseAnswer? Parse(string? value)
    {
        if (value is null) return null;
        var parts = value.Split(' ', 3);
        return parts.Length == 3 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var token) && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var ttl)
            ? new LeaseAnswer(parts[2], token, ttl)
            : null;
    }
}

public sealed partial class KeyValueStore
{
    private LeaseTable _leases = new();
    private FencedRegisters _fenced = new();

    /// <summary>The live lease of an election at the replicated leader time, or null.</summary>
    public Lease? LeaseHolder(string name) => _leases.Holder(name, LeaderTimeMs);

    /// <summary>Every live lease (ordinal name order) at the replicated leader time.</summary>
    public IReadOnlyList<(string Name, Lease Lease)> Leases => _leases.Live(LeaderTimeMs);

    /// <summary>A fenced register's value and the highest token it has seen, or null.</summary>
    public (long HighestToken, string Value)? Fenced(string key) => _fenced.Get(key);

    /// <summary>Lease commands are judged by <see cref="LeaderTimeMs"/>, the leader clock carried in the log, so every replica decides alike.</summary>
    private KvResult ExecuteElection(KvElectionCommand command, long index)
    {
        var now = LeaderTimeMs;
        var outcome = command switch
        {
            KvCampaign c => _leases.Campaign(c.Key, c.Candidate, c.TtlMs, index, now),
            KvRenew r => _leases.Renew(r.Key, r.Candidate, r.Token, now),
            KvResign r => _leases.Resign(r.Key, r.Candidate, r.Token, now),
            _ => null,
        };
        if (outcome is not null)
        {
            var value = outcome.Lease is { } lease ? LeaseAnswer.Of(lease, now).Format() : null;
            return outcome.Granted ? new KvResult(KvStatus.Ok, value) : new KvResult(outcome.Full ? KvStatus.Invalid : KvStatus.LeaseRefused, value);
        }
        var put = (KvFencedPut)command;
        var fenced = _fenced.Write(put.Key, put.Token, put.Value);
        return fenced.Accepted ? KvResult.Ok
            : fenced.Full ? new KvResult(KvStatus.Invalid)
            : new KvResult(KvStatus.Fenced, fenced.HighestToken.ToString(CultureInfo.InvariantCulture));
    }

    private void WriteElection(BinaryWriter w)
    {
        _leases.Write(w);
        _fenced.Write(w);
    }

    private static (LeaseTable, FencedRegisters) ReadElection(BinaryReader r)
    {
        var (leases, fenced) = (new LeaseTable(), new FencedRegisters());
        leases.Read(r);
        fenced.Read(r);
        return (leases, fenced);
    }
}

/// <summary>The log encoding of the election commands, after the common header (client, sequence, key) of <see cref="KvCodec"/>.</summary>
internal static class KvElectionCodec
{
    private const byte CampaignTag = 7, RenewTag = 8, ResignTag = 9, FencedPutTag = 10;

    public static void Encode(BinaryWriter w, KvElectionCommand command)
    {
        switch (command)
        {
            case KvCampaign c:
                KvCodec.Check(c.Candidate, KvCodec.KeyBytesMax, "candidate");
                if (c.TtlMs is < 1 or > LeaseTable.TtlMsMax) throw new ArgumentException($"ttl must be 1 to {LeaseTable.TtlMsMax} ms");
                w.Write(CampaignTag); KvCodec.Header(w, c); w.Write(c.Candidate); w.Write(c.TtlMs);
                break;
            case KvRenew r:
                KvCodec.Check(r.Candidate, KvCodec.KeyBytesMax, "candidate");
                w.Write(RenewTag); KvCodec.Header(w, r); w.Write(r.Candidate); w.Write(r.Token);
                break;
            case KvResign r:
                KvCodec.Check(r.Candidate, KvCodec.KeyBytesMax, "candidate");
                w.Write(ResignTag); KvCodec.Header(w, r); w.Write(r.Candidate); w.Write(r.Token);
                break;
            case KvFencedPut f:
                KvCodec.Check(f.Value, KvCodec.ValueBytesMax, "value");
                w.Write(FencedPutTag); KvCodec.Header(w, f); w.Write(f.Token); w.Write(f.Value);
                break;
            default:
                throw new ArgumentException($"unknown command {command.GetType().Name}", nameof(command));
        }
    }

    public static KvCommand? Decode(byte tag, long client, long seq, string key, BinaryReader r) => tag switch
    {
        CampaignTag => new KvCampaign(client, seq, key, r.ReadString(), r.ReadInt64()) is { TtlMs: >= 1 and <= LeaseTable.TtlMsMax } c ? c : null,
        RenewTag => new KvRenew(client, seq, key, r.ReadString(), r.ReadInt64()),
        ResignTag => new KvResign(client, seq, key, r.ReadString(), r.ReadInt64()),
        FencedPutTag => new KvFencedPut(client, seq, key, r.ReadInt64(), r.ReadString()),
        _ => null,
    };
}

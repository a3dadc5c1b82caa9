using Akka.Actor;
using DistSysActors.Core.Election;
using DistSysActors.Core.KeyValue;
using static DistSysActors.Actors.KeyValue.ElectionProtocol;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Actors.KeyValue;

/// <summary>
/// Leases and fenced registers (<see cref="ElectionProtocol"/>): their writes go through client sessions like any
/// write, as <see cref="KvElectionCommand"/>s. Lease TTLs are judged by the leader clock carried in the log, so this
/// leader keeps it fresh: it writes a clock entry just before each lease command it proposes, and every
/// distsys.election.lease-clock-interval-ms while any lease is held (a command forwarded from a follower is judged by
/// the latest of those).
/// </summary>
public sealed partial class KvService
{
    private static KvElectionCommand ElectionCommand(ElectionWrite write, ClientSession s) => write switch
    {
        Campaign c => new KvCampaign(s.ClientId, s.Sequence, c.Name, c.Candidate, c.TtlMs),
        Renew r => new KvRenew(s.ClientId, s.Sequence, r.Name, r.Candidate, r.Token),
        Resign r => new KvResign(s.ClientId, s.Sequence, r.Name, r.Candidate, r.Token),
        FencedPut f => new KvFencedPut(s.ClientId, s.Sequence, f.Key, f.Token, f.Value),
        _ => throw new InvalidOperationException($"unknown election write {write.GetType().Name}"),
    };

    private Rejected? ValidateElection(KvWrite write)
    {
        var candidate = write switch { Campaign c => c.Candidate, Renew r => r.Candidate, Resign r => r.Candidate, _ => null };
        if (write is Campaign or Renew or Resign && (string.IsNullOrEmpty(candidate) || System.Text.Encoding.UTF8.GetByteCount(candidate) > _settings.KeyBytesMax))
            return new Rejected($"the candidate must be 1 to {_settings.KeyBytesMax} bytes", TooLarge: false);
        return write switch
        {
            Campaign { TtlMs: < 1 or > LeaseTable.TtlMsMax } => new Rejected($"ttlMs must be 1 to {LeaseTable.TtlMsMax}", TooLarge: false),
            Renew { Token: < 1 } or Resign { Token: < 1 } or FencedPut { Token: < 0 } => new Rejected("the token must be a non-negative integer (positive for a lease)", TooLarge: false),
            _ => null,
        };
    }

    /// <summary>Answers a confirmed election read from the applied state; null when the read is a key-value one.</summary>
    private object? ServeElectionRead(KvRequest? request) => request switch
    {
        GetLease g => new LeaseState(_store.LeaseHolder(g.Name) is { } l ? LeaseAnswer.Of(l, _store.LeaderTimeMs) : null, _store.AppliedIndex),
        GetFenced f => _store.Fenced(f.Key) is { } r ? new FencedState(r.Value, r.HighestToken, _store.AppliedIndex) : new FencedState(null, null, _store.AppliedIndex),
        _ => null,
    };

    private void OnElectionRead(ElectionRead read, IActorRef client)
    {
        if (Validate(read.Key, null, null) is { } rejected)
        {
            client.Tell(rejected);
            return;
        }
        if (PendingWrites + _reads.Count + _sessionReads.Count >= _settings.PendingRequestsMax)
        {
            client.Tell(new Unavailable("overloaded: too many requests pending", Unknown: false));
            return;
        }
        var id = ++_nextReadId;
        _reads[id] = new PendingRead(read.Key, client, DateTime.UtcNow + _requestTimeout, read);
        _log.ConfirmRead(id, lease: false);
    }

    private Leases HeldLeases() =>
        new([.. _store.Leases.Select(l => (l.Name, LeaseAnswer.Of(l.Lease, _store.LeaderTimeMs)))], _store.LeaderTimeMs);

    /// <summary>The periodic clock entry while leases are held, so their expiry is judged by a fresh leader clock.</summary>
    private void OnLeaseClock()
    {
        if (_store.Leases.Count > 0) ProposeLeaderClock();
    }

    private sealed record LeaseClock
    {
        public static readonly LeaseClock Instance = new();
    }
}

using Akka.Actor;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Gossip;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Gossip;

/// <summary>
/// The anti-entropy AP store on a node: hosts an <see cref="ApStore"/> core, reads from the local replica, and exchanges
/// digests with a random peer each interval. Durable (docs/gossip.md, "Persistence"): every entry the replica takes is
/// journaled, a local write is answered once its entry is durable (whatever the network does), and a restarted actor
/// system recovers the replica, tombstones included, from the snapshot and journal. Journal writes are pipelined, so
/// writes that arrive while one is in flight are persisted together (group commit).
/// Its clock is the node's physical clock (skew included), which the store's hybrid logical clock builds on.
/// </summary>
public sealed class ApStoreActor : DurableProtocolHostActor<AntiEntropyMessage, ProtocolReady<AntiEntropyMessage>>
{
    public const int SnapshotEventsMax = 1_000;
    public const int WritesWaitingMax = 10_000;

    private readonly NodeId _self;
    private readonly IReadOnlyCollection<NodeId> _peers;
    private readonly GossipSettings _settings;
    private readonly long _seed;
    private readonly List<ApEntry> _recovered = [];
    private readonly WaitingClients<NoTag> _waiting = new("writes waiting for the disk", WritesWaitingMax);
    private ApStore? _store;

    public ApStoreActor(NodeId self, IReadOnlyCollection<NodeId> peers, GossipSettings settings, IActorRef network, long seed, Func<long> clockMs)
        : base(self, new ProtocolHostSettings(GossipProtocol.ApService, TickInterval: TimeSpan.FromMilliseconds(settings.TickMs)), network, clockMs,
            SnapshotEventsMax, JournalWrites.Pipelined)
    {
        _self = self;
        _peers = peers;
        _settings = settings;
        _seed = seed;
        PersistenceId = $"ap-store-node-{self}";
        Command<AntiEntropyMessage>(StepCore);
        CommandStatus<GossipProtocol.GetApStatus>(() => _store!.Status());
        Command<GossipProtocol.ApGet>(get => Sender.Tell(new GossipProtocol.ApRead(_store!.Get(get.Key))));
        Command<GossipProtocol.ApWrite>(OnWrite);
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> peers, GossipSettings settings, IActorRef network, long seed, Func<long> clockMs) =>
        Akka.Actor.Props.Create(() => new ApStoreActor(self, peers, settings, network, seed, clockMs));

    public override string PersistenceId { get; }

    protected override IProtocolCore<AntiEntropyMessage, ProtocolReady<AntiEntropyMessage>> Core => _store!;

    private void OnWrite(GossipProtocol.ApWrite write)
    {
        if (_waiting.Overloaded is { } overloaded)
        {
            Sender.Tell(new ApWriteResult.Refused(overloaded));
            return;
        }
        var id = _waiting.NextId();
        var result = write.Value is null ? _store!.Delete(write.Key, NowMs, id) : _store!.Put(write.Key, write.Value, NowMs, id);
        // A refused write changed nothing and is answered now; a written one once durable (Answer).
        if (result is ApWriteResult.Refused) { Sender.Tell(result); return; }
        _waiting.Add(id, Sender, default);
        Flush();
    }

    public override void Answer(object answer)
    {
        if (answer is ApWriteDurable durable && _waiting.TryRemove(durable.RequestId, out var asker))
            asker.Tell(new ApWriteResult.Written(durable.Entry));
    }

    protected override void RestoreSnapshot(object snapshot)
    {
        _recovered.Clear();
        _recovered.AddRange(((ApSnapshot)snapshot).Entries);
    }

    protected override void Replay(object journalEvent) => _recovered.Add((ApEntry)journalEvent);

    protected override object SnapshotState() => _store!.Snapshot();

    protected override void OnRecovered()
    {
        _store = new ApStore(_self, _peers, _settings.Ap, new DeterministicRandom(_seed));
        _store.Recover(_recovered, NowMs);
        _recovered.Clear();
    }
}

using DistSysActors.Core.Protocol;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions;

/// <summary>
/// One node's transaction roles on one Ready: the <see cref="Coordinator"/> of the transactions it receives and the
/// <see cref="Participant"/> owning its keys (classic mode). Each message goes to its role (<see cref="Txn.RoleOf"/>);
/// a node rebuilds both roles from its journal.
/// </summary>
public sealed class TxnNode : IProtocolCore<TxnMessage, ProtocolReady<TxnMessage>>
{
    private readonly ReadyBuffer<TxnMessage> _ready = new();

    public TxnNode(NodeId self, IEnumerable<NodeId> participants, TxnConfig? config = null, IEnumerable<object>? journal = null)
    {
        Self = self;
        config ??= new TxnConfig();
        Coordinator = new TxnCoordinator(self, config, _ready, new TxnPartitioner(participants));
        Participant = new TxnParticipant(self, config, _ready);
        foreach (var record in journal ?? [])
        {
            Coordinator.Recover(record);
            Participant.Recover(record);
        }
    }

    public NodeId Self { get; }
    public TxnCoordinator Coordinator { get; }
    public TxnParticipant Participant { get; }

    public void Step(TxnMessage message, long nowMs)
    {
        switch (message)
        {
            case Prepare m: Participant.OnPrepare(m, nowMs); break;
            case PreCommit m: Participant.OnPreCommit(m, nowMs); break;
            case Decision m: Participant.OnDecision(m, nowMs); break;
            case SagaStep m: Participant.OnSagaStep(m); break;
            case SagaCompensate m: Participant.OnSagaCompensate(m); break;
            case StateRequest m: Participant.OnStateRequest(m, nowMs); break;
            case StateReply { ToCoordinator: false } m: Participant.OnStateReply(m, nowMs); break;
            case StateReply m: Coordinator.OnStateReply(m); break;
            case Vote m: Coordinator.OnVote(m, nowMs); break;
            case PreCommitAck m: Coordinator.OnPreCommitAck(m, nowMs); break;
            case DecisionAck m: Coordinator.OnDecisionAck(m); break;
            case DecisionQuery m: Coordinator.OnDecisionQuery(m); break;
            case SagaStepResult m: Coordinator.OnSagaStepResult(m, nowMs); break;
            case SagaCompensated m: Coordinator.OnSagaCompensated(m, nowMs); break;
        }
    }

    public void Tick(long nowMs)
    {
        Participant.Tick(nowMs);
        Coordinator.Tick(nowMs);
    }

    public bool HasReady => _ready.HasReady;
    public ProtocolReady<TxnMessage> TakeReady() => _ready.Take();
    public void Advance(ProtocolReady<TxnMessage> ready) => _ready.Advance(ready);

    /// <summary>Both roles' state at once; a node built from it (then later records) is the same node.</summary>
    public TxnSnapshot Snapshot()
    {
        var (store, records) = Participant.SnapshotParts();
        return new TxnSnapshot(Coordinator.LastSeq, [.. store], [.. records, .. Coordinator.SnapshotRecords()]);
    }

    public IReadOnlyList<string> CheckInvariants() => [.. Participant.CheckInvariants(), .. Coordinator.CheckInvariants()];
}

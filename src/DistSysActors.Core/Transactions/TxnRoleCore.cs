using DistSysActors.Core.Protocol;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions;

/// <summary>
/// One transaction role as a core of its own, for a host that runs each role as its own actor (its own journal, its own
/// network service): the <see cref="TxnCoordinator"/> or the <see cref="TxnParticipant"/>. Messages for the other role
/// are ignored (<see cref="Txn.RoleOf"/> routes them there).
/// </summary>
public sealed class TxnRoleCore : IProtocolCore<TxnMessage, ProtocolReady<TxnMessage>>
{
    private readonly ReadyBuffer<TxnMessage> _ready = new();

    public TxnRoleCore(Role role, NodeId self, IEnumerable<NodeId> participants, TxnConfig? config = null, IEnumerable<object>? journal = null)
    {
        Role = role;
        config ??= new TxnConfig();
        if (role == Role.Coordinator) Coordinator = new TxnCoordinator(self, config, _ready, new TxnPartitioner(participants));
        else Participant = new TxnParticipant(self, config, _ready);
        foreach (var record in journal ?? [])
        {
            Coordinator?.Recover(record);
            Participant?.Recover(record);
        }
    }

    public Role Role { get; }
    public TxnCoordinator? Coordinator { get; }
    public TxnParticipant? Participant { get; }

    public void Step(TxnMessage message, long nowMs)
    {
        if (RoleOf(message) != Role) return;
        if (Participant is { } p)
            switch (message)
            {
                case Prepare m: p.OnPrepare(m, nowMs); break;
                case PreCommit m: p.OnPreCommit(m, nowMs); break;
                case Decision m: p.OnDecision(m, nowMs); break;
                case SagaStep m: p.OnSagaStep(m); break;
                case SagaCompensate m: p.OnSagaCompensate(m); break;
                case StateRequest m: p.OnStateRequest(m, nowMs); break;
                case StateReply m: p.OnStateReply(m, nowMs); break;
            }
        if (Coordinator is { } c)
            switch (message)
            {
                case StateReply m: c.OnStateReply(m); break;
                case Vote m: c.OnVote(m, nowMs); break;
                case PreCommitAck m: c.OnPreCommitAck(m, nowMs); break;
                case DecisionAck m: c.OnDecisionAck(m); break;
                case DecisionQuery m: c.OnDecisionQuery(m); break;
                case SagaStepResult m: c.OnSagaStepResult(m, nowMs); break;
                case SagaCompensated m: c.OnSagaCompensated(m, nowMs); break;
            }
    }

    public void Tick(long nowMs)
    {
        Participant?.Tick(nowMs);
        Coordinator?.Tick(nowMs);
    }

    public bool HasReady => _ready.HasReady;
    public ProtocolReady<TxnMessage> TakeReady() => _ready.Take();
    public void Advance(ProtocolReady<TxnMessage> ready) => _ready.Advance(ready);

    public TxnSnapshot Snapshot()
    {
        if (Coordinator is { } c) return new TxnSnapshot(c.LastSeq, [], [.. c.SnapshotRecords()]);
        var (store, records) = Participant!.SnapshotParts();
        return new TxnSnapshot(0, [.. store], [.. records]);
    }

    public IReadOnlyList<string> CheckInvariants() => Coordinator?.CheckInvariants() ?? Participant!.CheckInvariants();
}

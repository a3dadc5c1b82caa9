using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions;

public sealed partial class TxnCoordinator
{
    /// <summary>
    /// A saga (Garcia-Molina, Salem 1987): one local transaction per participant, run in order; when one is refused, the
    /// steps already done are compensated in reverse order. Each step and compensation is retried until answered (the
    /// participant runs each at most once), and each answer is logged before the next message leaves.
    /// </summary>
    private void ResendSaga(Running txn)
    {
        if (txn.Step < 0 || txn.Step >= txn.Begin.Branches.Length) return;
        var branch = txn.Begin.Branches[txn.Step];
        _ready.Send(branch.Participant, txn.State == TxnState.Aborted
            ? new SagaCompensate(_self, txn.Id, txn.Step)
            : new SagaStep(_self, txn.Id, txn.Step, branch.Ops));
    }

    internal void OnSagaStepResult(SagaStepResult r, long nowMs)
    {
        if (!_running.TryGetValue(r.Id, out var txn) || txn.State != TxnState.Active || r.Step != txn.Step) return;
        if (r.Done)
        {
            _ready.Persist(new SagaProgressRecord(txn.Id, r.Step, false));
            txn.Step++;
            if (txn.Step == txn.Begin.Branches.Length)
            {
                txn.State = TxnState.Committed;
                _ready.Persist(new DecisionRecord(txn.Id, TxnState.Committed, null));
                End(txn);
                AnswerClient(txn);
                return;
            }
        }
        else
        {
            txn.State = TxnState.Aborted;
            txn.Reason = $"step {r.Step} at participant {r.From} refused: {r.Reason}";
            _ready.Persist(new DecisionRecord(txn.Id, TxnState.Aborted, txn.Reason));
            txn.Step--;
            if (SagaCompensatedAll(txn)) return;
        }
        txn.LastSendMs = nowMs;
        ResendSaga(txn);
    }

    internal void OnSagaCompensated(SagaCompensated c, long nowMs)
    {
        if (!_running.TryGetValue(c.Id, out var txn) || txn.State != TxnState.Aborted || c.Step != txn.Step) return;
        _ready.Persist(new SagaProgressRecord(txn.Id, c.Step, true));
        CompensationOrder.Add((txn.Id, c.Step));
        txn.Step--;
        if (SagaCompensatedAll(txn)) return;
        txn.LastSendMs = nowMs;
        ResendSaga(txn);
    }

    private bool SagaCompensatedAll(Running txn)
    {
        if (txn.Step >= 0) return false;
        End(txn);
        AnswerClient(txn);
        return true;
    }

    /// <summary>Compensations as this incarnation saw them complete, in order (for tests and traces).</summary>
    public List<(TxnId Id, int Step)> CompensationOrder { get; } = [];
}

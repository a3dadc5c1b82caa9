using System.Collections.Immutable;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions;

public sealed partial class TxnParticipant
{
    // Saga steps run here (applied or refused) and compensated, by (transaction, step): every step and compensation runs
    // at most once, whatever the retries; a compensation that arrives first cancels the step for good.
    private readonly SortedDictionary<(TxnId Id, int Step), SagaStepState> _sagaSteps = new(SagaKeyOrder.Instance);

    private sealed class SagaStepState
    {
        public SagaStepRecord? Step { get; set; }
        public bool Compensated { get; set; }
    }

    private TxnState SagaStateOf(TxnId id)
    {
        var steps = _sagaSteps.Where(kv => kv.Key.Id == id).Select(kv => kv.Value).ToArray();
        if (steps.Any(s => s.Compensated) || steps.Any(s => s.Step is { Applied: false })) return TxnState.Aborted;
        return steps.Length > 0 ? TxnState.Committed : TxnState.Unknown;
    }

    private void RecoverSagaStep(SagaStepRecord s)
    {
        StateOfStep(s.Id, s.Step).Step = s;
        if (s.Applied) ApplyWrites(s.Writes);
    }

    private void RecoverSagaCompensation(SagaCompensationRecord c)
    {
        StateOfStep(c.Id, c.Step).Compensated = true;
        ApplyWrites(c.Writes);
    }

    private SagaStepState StateOfStep(TxnId id, int step)
    {
        if (!_sagaSteps.TryGetValue((id, step), out var s)) _sagaSteps[(id, step)] = s = new SagaStepState();
        return s;
    }

    internal void OnSagaStep(SagaStep m)
    {
        var state = _sagaSteps.GetValueOrDefault((m.Id, m.Step));
        if (state is { Compensated: true } && state.Step is null)
        {
            _ready.Send(m.From, new SagaStepResult(_self, m.Id, m.Step, false, "compensated before it ran"));
            return;
        }
        if (state?.Step is { } done)
        {
            _ready.Send(m.From, new SagaStepResult(_self, m.Id, m.Step, done.Applied, done.Reason));
            return;
        }
        // A key locked by a prepared 2PC/3PC transaction: no answer now, the coordinator retries the step.
        if (m.Ops.Any(o => _locks.ContainsKey(o.Key))) return;
        var (writes, refusal) = TxnOps.Evaluate(m.Ops, Read);
        var record = refusal is null
            ? new SagaStepRecord(m.Id, m.Step, true, null, writes, TxnOps.Compensation(m.Ops, Read))
            : new SagaStepRecord(m.Id, m.Step, false, refusal, [], []);
        StateOfStep(m.Id, m.Step).Step = record;
        _ready.Persist(record);
        ApplyWrites(record.Writes);
        _ready.Send(m.From, new SagaStepResult(_self, m.Id, m.Step, record.Applied, refusal));
    }

    internal void OnSagaCompensate(SagaCompensate m)
    {
        var state = StateOfStep(m.Id, m.Step);
        if (!state.Compensated)
        {
            var undo = state.Step is { Applied: true } s ? s.Compensation : [];
            if (undo.Any(o => _locks.ContainsKey(o.Key))) return; // retried by the coordinator
            // An undo ignores min (it must succeed) and skips a key no longer holding an integer.
            var writes = ImmutableArray.CreateBuilder<TxnWrite>();
            foreach (var op in undo)
            {
                var (w, refusal) = TxnOps.Evaluate([op], Read, enforceMin: false);
                if (refusal is null)
                {
                    writes.AddRange(w);
                    ApplyWrites(w);
                }
            }
            var record = new SagaCompensationRecord(m.Id, m.Step, writes.ToImmutable());
            state.Compensated = true;
            _ready.Persist(record);
        }
        _ready.Send(m.From, new SagaCompensated(_self, m.Id, m.Step));
    }

    private sealed class SagaKeyOrder : IComparer<(TxnId Id, int Step)>
    {
        public static readonly SagaKeyOrder Instance = new();

        public int Compare((TxnId Id, int Step) x, (TxnId Id, int Step) y)
        {
            var c = TxnIdOrder.Instance.Compare(x.Id, y.Id);
            return c != 0 ? c : x.Step.CompareTo(y.Step);
        }
    }
}

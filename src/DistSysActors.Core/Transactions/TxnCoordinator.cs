using System.Collections.Immutable;
using DistSysActors.Core.Protocol;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions;

/// <summary>
/// The coordinator of 2PC (presumed abort), 3PC and sagas on the node that received the transaction. Every decision is
/// durable before it is sent: <see cref="BeginRecord"/> (the participants) before the first PREPARE, the COMMIT
/// <see cref="DecisionRecord"/> before the first COMMIT (the point of no return), <see cref="EndRecord"/> once every
/// participant acknowledged. An abort needs no acknowledgement: a participant that asks about a transaction this
/// coordinator has no record of is told "aborted" (Mohan, Lindsay, Obermarck 1986). After a crash the log is finished:
/// undecided 2PC transactions abort, committed ones are sent COMMIT again until acknowledged.
/// </summary>
public sealed partial class TxnCoordinator
{
    private readonly NodeId _self;
    private readonly TxnConfig _config;
    private readonly ReadyBuffer<TxnMessage> _ready;
    private readonly SortedDictionary<TxnId, Running> _running = new(TxnIdOrder.Instance);
    private readonly Dictionary<TxnId, TxnView> _finished = [];
    private readonly Queue<TxnId> _finishedOrder = new();
    private long _lastSeq;

    internal TxnCoordinator(NodeId self, TxnConfig config, ReadyBuffer<TxnMessage> ready, TxnPartitioner partitioner)
    {
        _self = self;
        _config = config;
        _ready = ready;
        Partitioner = partitioner;
    }

    public TxnPartitioner Partitioner { get; }

    private sealed class Running(BeginRecord begin)
    {
        public BeginRecord Begin { get; } = begin;
        public TxnId Id => Begin.Id;
        public TxnProtocol Protocol => Begin.Protocol;
        public ImmutableArray<NodeId> Participants { get; } = [.. begin.Branches.Select(b => b.Participant).Distinct()];
        public TxnState State { get; set; } = TxnState.Active;
        public string? Reason { get; set; }
        public List<long> Requests { get; } = [];
        public long? StartMs { get; set; }
        public long? PhaseStartMs { get; set; }
        public long LastSendMs { get; set; } = long.MinValue / 2;
        public bool Recovered { get; set; }
        public bool Terminating { get; set; }
        public HashSet<NodeId> Yes { get; } = [];
        public HashSet<NodeId> PreAcks { get; } = [];
        public HashSet<NodeId> Acks { get; } = [];
        // Saga: the step running forward, or the step being compensated once aborted.
        public int Step { get; set; }
    }

    /// <summary>Transactions not finished yet.</summary>
    public int RunningCount => _running.Count;

    /// <summary>
    /// Starts a transaction for request <paramref name="requestId"/>; its answer comes as a <see cref="TxnAnswer"/>.
    /// The ops must have passed <see cref="TxnOps.Validate"/>.
    /// </summary>
    public TxnId Begin(long requestId, TxnProtocol protocol, IReadOnlyList<TxnOp> ops, long nowMs) =>
        Begin(requestId, protocol, ops, nowMs, null, null) is Started s ? s.Id : throw new InvalidOperationException("a transaction without a key always starts");

    /// <summary>
    /// Like <see cref="Begin(long,TxnProtocol,IReadOnlyList{TxnOp},long)"/> under a client's Idempotency-Key: a key seen
    /// before (with the same <paramref name="fingerprint"/>) attaches the request to that transaction, whose outcome it
    /// then hears, at once if already known; with another fingerprint it is a <see cref="KeyConflict"/>.
    /// </summary>
    public BeginResult Begin(long requestId, TxnProtocol protocol, IReadOnlyList<TxnOp> ops, long nowMs, string? idempotencyKey, string? fingerprint)
    {
        if (TxnOps.Validate(ops) is { } error) throw new ArgumentException(error, nameof(ops));
        if (idempotencyKey is not null && _byKey.TryGetValue(idempotencyKey, out var known))
        {
            if (known.Fingerprint != fingerprint) return new KeyConflict($"Idempotency-Key '{idempotencyKey}' was used for another request ({known.Id})");
            if (_running.TryGetValue(known.Id, out var running)) running.Requests.Add(requestId);
            else if (_finished.TryGetValue(known.Id, out var view)) _ready.Answer(new TxnAnswer(requestId, known.Id, view.State, view.Reason, Replayed: true));
            return new FoundByKey(known.Id);
        }
        var id = new TxnId(_self, ++_lastSeq);
        var groups = ops.GroupBy(o => Partitioner.OwnerOf(o.Key)).Select(g => new Branch(g.Key, [.. g]));
        // A saga runs its steps in the order the ops name their participants (a debit first); 2PC/3PC in node order.
        var branches = protocol == TxnProtocol.Saga ? [.. groups] : groups.OrderBy(b => b.Participant).ToImmutableArray();
        var begin = new BeginRecord(id, protocol, branches, idempotencyKey, idempotencyKey is null ? null : fingerprint);
        var txn = new Running(begin) { StartMs = nowMs, PhaseStartMs = nowMs };
        txn.Requests.Add(requestId);
        _running[id] = txn;
        RememberKey(begin);
        _ready.Persist(begin);
        Resend(txn, nowMs);
        return new Started(id);
    }

    // Idempotency-Keys of the transactions remembered (running or among the finished kept), to their id and fingerprint.
    private readonly Dictionary<string, (TxnId Id, string? Fingerprint)> _byKey = new(StringComparer.Ordinal);

    private void RememberKey(BeginRecord begin)
    {
        if (begin.IdempotencyKey is { } key) _byKey[key] = (begin.Id, begin.Fingerprint);
    }

    internal void Recover(object record)
    {
        switch (record)
        {
            case TxnSnapshot snapshot:
                _lastSeq = Math.Max(_lastSeq, snapshot.LastSeq);
                foreach (var r in snapshot.Records) Recover(r);
                break;
            case BeginRecord b:
                _lastSeq = Math.Max(_lastSeq, b.Id.Seq);
                _running[b.Id] = new Running(b) { Recovered = true };
                RememberKey(b);
                break;
            case DecisionRecord d when _running.TryGetValue(d.Id, out var t):
                t.State = d.State;
                t.Reason = d.Reason;
                if (t.Protocol == TxnProtocol.Saga && d.State == TxnState.Aborted) t.Step--;
                break;
            case SagaProgressRecord s when _running.TryGetValue(s.Id, out var t):
                t.Step = s.Compensated ? s.Step - 1 : s.Step + 1;
                break;
            case EndRecord e when _running.TryGetValue(e.Id, out var t):
                Forget(t);
                break;
        }
    }

    internal void Tick(long nowMs)
    {
        foreach (var txn in _running.Values.ToArray())
        {
            if (txn.Recovered) Resume(txn, nowMs);
            if (!_running.ContainsKey(txn.Id)) continue;
            txn.StartMs ??= nowMs;
            txn.PhaseStartMs ??= nowMs;
            if (txn.Protocol == TxnProtocol.Saga) { if (nowMs - txn.LastSendMs >= _config.RetryMs) Resend(txn, nowMs); continue; }
            switch (txn.State)
            {
                case TxnState.Active when !txn.Terminating && nowMs - txn.StartMs >= _config.VoteTimeoutMs:
                    Abort(txn, $"not every participant voted within {_config.VoteTimeoutMs} ms");
                    continue;
                case TxnState.PreCommitted when !txn.Terminating && nowMs - txn.PhaseStartMs >= _config.PreCommitTimeoutMs:
                    Commit(txn, nowMs);
                    continue;
            }
            if (nowMs - txn.LastSendMs >= _config.RetryMs) Resend(txn, nowMs);
        }
    }

    /// <summary>The first tick after recovery finishes what the log left open.</summary>
    private void Resume(Running txn, long nowMs)
    {
        txn.Recovered = false;
        if (txn.Protocol == TxnProtocol.Saga || txn.State == TxnState.Committed) return; // resent below
        if (txn.Protocol == TxnProtocol.TwoPhase) Abort(txn, "the coordinator restarted before deciding (presumed abort)");
        // 3PC: the participants may have terminated it meanwhile; learn their outcome instead of deciding again.
        else txn.Terminating = true;
    }

    /// <summary>Sends again what the transaction waits for.</summary>
    private void Resend(Running txn, long nowMs)
    {
        txn.LastSendMs = nowMs;
        if (txn.Protocol == TxnProtocol.Saga) { ResendSaga(txn); return; }
        foreach (var branch in txn.Begin.Branches)
        {
            var p = branch.Participant;
            TxnMessage? m = txn.Terminating ? new StateRequest(_self, txn.Id, true)
                : txn.State switch
                {
                    TxnState.Active when !txn.Yes.Contains(p) => new Prepare(_self, txn.Id, txn.Protocol, txn.Participants, branch.Ops),
                    TxnState.PreCommitted when !txn.PreAcks.Contains(p) => new PreCommit(_self, txn.Id),
                    TxnState.Committed when !txn.Acks.Contains(p) => new Decision(_self, txn.Id, true),
                    _ => null,
                };
            if (m is not null) _ready.Send(p, m);
        }
    }

    internal void OnVote(Vote v, long nowMs)
    {
        if (!_running.TryGetValue(v.Id, out var txn) || txn.Terminating)
        {
            if (v.Yes && !_running.ContainsKey(v.Id)) _ready.Send(v.From, new Decision(_self, v.Id, OutcomeOf(v.Id) == TxnState.Committed));
            return;
        }
        if (txn.State != TxnState.Active)
        {
            if (txn.State == TxnState.PreCommitted) _ready.Send(v.From, new PreCommit(_self, v.Id));
            else if (txn.State == TxnState.Committed) _ready.Send(v.From, new Decision(_self, v.Id, true));
            return;
        }
        if (!v.Yes) { Abort(txn, $"participant {v.From} voted NO: {v.Reason}"); return; }
        txn.Yes.Add(v.From);
        if (!txn.Participants.All(txn.Yes.Contains)) return;
        if (txn.Protocol == TxnProtocol.TwoPhase) { Commit(txn, nowMs); return; }
        txn.State = TxnState.PreCommitted;
        txn.PhaseStartMs = nowMs;
        _ready.Persist(new DecisionRecord(txn.Id, TxnState.PreCommitted, null));
        foreach (var p in txn.Participants) _ready.Send(p, new PreCommit(_self, txn.Id));
        txn.LastSendMs = nowMs;
    }

    internal void OnPreCommitAck(PreCommitAck a, long nowMs)
    {
        if (!_running.TryGetValue(a.Id, out var txn) || txn.State != TxnState.PreCommitted || txn.Terminating) return;
        txn.PreAcks.Add(a.From);
        if (txn.Participants.All(txn.PreAcks.Contains)) Commit(txn, nowMs);
    }

    /// <summary>Forces COMMIT to the log, then sends it: the point of no return. The client hears "committed" now.</summary>
    private void Commit(Running txn, long nowMs)
    {
        txn.State = TxnState.Committed;
        txn.PhaseStartMs = nowMs;
        _ready.Persist(new DecisionRecord(txn.Id, TxnState.Committed, null));
        foreach (var p in txn.Participants) _ready.Send(p, new Decision(_self, txn.Id, true));
        txn.LastSendMs = nowMs;
        AnswerClient(txn);
    }

    private void Abort(Running txn, string reason)
    {
        txn.State = TxnState.Aborted;
        txn.Reason = reason;
        _ready.Persist(new DecisionRecord(txn.Id, TxnState.Aborted, reason));
        // Presumed abort: sent once, never acknowledged; a participant that misses it asks and hears "aborted".
        foreach (var p in txn.Participants) _ready.Send(p, new Decision(_self, txn.Id, false));
        End(txn);
        AnswerClient(txn);
    }

    internal void OnDecisionAck(DecisionAck a)
    {
        if (!_running.TryGetValue(a.Id, out var txn) || txn.State != TxnState.Committed) return;
        txn.Acks.Add(a.From);
        if (txn.Participants.All(txn.Acks.Contains)) End(txn);
    }

    private void End(Running txn)
    {
        _ready.Persist(new EndRecord(txn.Id));
        Forget(txn);
    }

    private void Forget(Running txn)
    {
        _running.Remove(txn.Id);
        Remember(View(txn) with { Participants = [.. txn.Participants.Select(p => new ParticipantView(p, txn.State))] }, txn.Begin);
    }

    // The finished transactions kept (for GET, duplicates and retries under their key): their view and BEGIN.
    private readonly Dictionary<TxnId, BeginRecord> _finishedBegins = [];

    private void Remember(TxnView view, BeginRecord begin)
    {
        if (_finished.TryAdd(view.Id, view)) _finishedOrder.Enqueue(view.Id);
        else _finished[view.Id] = view;
        _finishedBegins[view.Id] = begin;
        while (_finished.Count > _config.OutcomesMax)
        {
            var old = _finishedOrder.Dequeue();
            _finished.Remove(old);
            if (_finishedBegins.Remove(old, out var b) && b.IdempotencyKey is { } key && _byKey.TryGetValue(key, out var k) && k.Id == old) _byKey.Remove(key);
        }
    }

    private void AnswerClient(Running txn)
    {
        foreach (var request in txn.Requests) _ready.Answer(new TxnAnswer(request, txn.Id, txn.State, txn.Reason));
        txn.Requests.Clear();
    }

    /// <summary>The outcome as this coordinator knows it; presumed abort for an id it issued and has no record of.</summary>
    private TxnState OutcomeOf(TxnId id) =>
        _running.TryGetValue(id, out var t) ? t.State : _finished.TryGetValue(id, out var v) ? v.State : TxnState.Aborted;

    internal void OnDecisionQuery(DecisionQuery q)
    {
        var state = OutcomeOf(q.Id);
        if (_running.TryGetValue(q.Id, out var txn) && txn.Terminating) state = TxnState.Active;
        _ready.Send(q.From, new StateReply(_self, q.Id, state is TxnState.Committed or TxnState.Aborted ? state : TxnState.Active, false));
    }

    /// <summary>A recovered 3PC coordinator adopts the outcome its participants reached.</summary>
    internal void OnStateReply(StateReply r)
    {
        if (!_running.TryGetValue(r.Id, out var txn) || !txn.Terminating || r.State is not (TxnState.Committed or TxnState.Aborted)) return;
        txn.State = r.State;
        txn.Reason = r.State == TxnState.Aborted ? "aborted by the participants' termination protocol" : null;
        _ready.Persist(new DecisionRecord(txn.Id, r.State, txn.Reason));
        End(txn);
        AnswerClient(txn);
    }

    /// <summary>What this coordinator knows of <paramref name="id"/>, or null if it never issued it.</summary>
    public TxnView? Describe(TxnId id)
    {
        if (_running.TryGetValue(id, out var txn)) return View(txn);
        if (_finished.TryGetValue(id, out var view)) return view;
        return null;
    }

    private TxnView View(Running txn) => new(txn.Id, txn.Protocol, txn.State, txn.Reason,
        [.. txn.Begin.Branches.Select((b, i) => new ParticipantView(b.Participant, ParticipantState(txn, b.Participant, i)))]);

    private static TxnState ParticipantState(Running txn, NodeId p, int step)
    {
        if (txn.Protocol == TxnProtocol.Saga)
            return txn.State == TxnState.Aborted ? (step > txn.Step ? TxnState.Aborted : TxnState.Committed)
                : step < txn.Step || txn.State == TxnState.Committed ? TxnState.Committed : TxnState.Active;
        return txn.State switch
        {
            TxnState.Active => txn.Yes.Contains(p) ? TxnState.Prepared : TxnState.Active,
            TxnState.PreCommitted => txn.PreAcks.Contains(p) ? TxnState.PreCommitted : TxnState.Prepared,
            TxnState.Committed => txn.Acks.Contains(p) ? TxnState.Committed : txn.Protocol == TxnProtocol.ThreePhase ? TxnState.PreCommitted : TxnState.Prepared,
            _ => TxnState.Aborted,
        };
    }

    /// <summary>Records that replay this coordinator's state: the finished transactions kept, then the running ones.</summary>
    internal IEnumerable<object> SnapshotRecords()
    {
        foreach (var id in _finishedOrder)
        {
            if (!_finished.TryGetValue(id, out var view) || !_finishedBegins.TryGetValue(id, out var begin)) continue;
            yield return begin;
            yield return new DecisionRecord(id, view.State, view.Reason);
            yield return new EndRecord(id);
        }
        foreach (var txn in _running.Values)
        {
            yield return txn.Begin;
            if (txn.Protocol == TxnProtocol.Saga)
            {
                if (txn.State == TxnState.Aborted)
                {
                    yield return new DecisionRecord(txn.Id, TxnState.Aborted, txn.Reason);
                    yield return new SagaProgressRecord(txn.Id, txn.Step + 1, true);
                }
                else if (txn.Step > 0) yield return new SagaProgressRecord(txn.Id, txn.Step - 1, false);
            }
            else if (txn.State != TxnState.Active) yield return new DecisionRecord(txn.Id, txn.State, txn.Reason);
        }
    }

    internal long LastSeq => _lastSeq;

    public IReadOnlyList<string> CheckInvariants()
    {
        var problems = new List<string>();
        foreach (var txn in _running.Values)
            if (txn.Protocol != TxnProtocol.Saga && !txn.Recovered && !txn.Terminating && txn.State is TxnState.PreCommitted or TxnState.Committed
                && txn.Yes.Count > 0 && !txn.Participants.All(txn.Yes.Contains))
                problems.Add($"{txn.Id} is {txn.State} without every participant's YES");
        return problems;
    }
}

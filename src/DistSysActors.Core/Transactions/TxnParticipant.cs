using System.Collections.Immutable;
using DistSysActors.Core.Protocol;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions;

/// <summary>
/// The participant of 2PC, 3PC and sagas: owns its keys' committed values, their locks and the staged writes of the
/// transactions it voted YES for. Lock mode: one exclusive lock per key a transaction touches (reads included, as an add
/// reads), all taken at once when the PREPARE arrives; a PREPARE that meets a held lock waits up to
/// <see cref="TxnConfig.LockTimeoutMs"/> and then votes NO, which breaks distributed deadlocks. A YES voter writes
/// <see cref="PreparedRecord"/> (with its writes) before its vote leaves, keeps its locks until it learns the outcome,
/// and after a crash recovers into PREPARED and asks.
/// </summary>
public sealed partial class TxnParticipant
{
    private readonly NodeId _self;
    private readonly TxnConfig _config;
    private readonly ReadyBuffer<TxnMessage> _ready;
    private readonly SortedDictionary<string, string> _store = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TxnId> _locks = new(StringComparer.Ordinal);
    private readonly SortedDictionary<TxnId, Pending> _pending = new(TxnIdOrder.Instance);
    private readonly List<Waiter> _waiters = [];
    private readonly OutcomeMemory _outcomes;

    internal TxnParticipant(NodeId self, TxnConfig config, ReadyBuffer<TxnMessage> ready)
    {
        _self = self;
        _config = config;
        _ready = ready;
        _outcomes = new OutcomeMemory(config.OutcomesMax);
    }

    /// <summary>A transaction voted YES and not yet decided.</summary>
    private sealed class Pending(PreparedRecord record)
    {
        public PreparedRecord Record { get; } = record;
        public TxnState State { get; set; } = TxnState.Prepared;
        public long? SinceMs { get; set; }
        public long? LastHeardMs { get; set; }
        public long? LastAskMs { get; set; }
        public Termination? Poll { get; set; }
    }

    private sealed record Waiter(Prepare Prepare, long DeadlineMs);

    /// <summary>A 3PC termination round this participant leads: the states it has heard so far.</summary>
    private sealed class Termination(long untilMs)
    {
        public long UntilMs { get; } = untilMs;
        public Dictionary<NodeId, TxnState> States { get; } = [];
    }

    /// <summary>The committed value of <paramref name="key"/>, or null.</summary>
    public string? Read(string key) => _store.GetValueOrDefault(key);

    public IReadOnlyDictionary<string, string> Committed => _store;

    /// <summary>What this participant knows of <paramref name="id"/>.</summary>
    public TxnState StateOf(TxnId id) =>
        _pending.TryGetValue(id, out var p) ? p.State
        : _outcomes.Get(id) is { } committed ? (committed ? TxnState.Committed : TxnState.Aborted)
        : _sagaSteps.Keys.Any(k => k.Id == id) ? SagaStateOf(id)
        : TxnState.Unknown;

    public IReadOnlyList<InDoubt> InDoubtTransactions(long nowMs) =>
        [.. _pending.Values.Select(p => new InDoubt(p.Record.Id, p.Record.Protocol, p.State, p.SinceMs is { } s ? Math.Max(0, nowMs - s) : 0,
            [.. _locks.Where(l => l.Value == p.Record.Id).Select(l => l.Key).Order(StringComparer.Ordinal)]))];

    public IReadOnlyDictionary<string, TxnId> Locks => _locks;

    // ---- recovery ----

    internal void Recover(object record)
    {
        switch (record)
        {
            case TxnSnapshot snapshot:
                ApplyWrites(snapshot.Store);
                foreach (var r in snapshot.Records) Recover(r);
                _outcomes.MarkForgottenBeforeSnapshot();
                break;
            case PreparedRecord p:
                _pending[p.Id] = new Pending(p);
                foreach (var w in p.Writes) _locks[w.Key] = p.Id;
                break;
            case PreCommittedRecord pc when _pending.TryGetValue(pc.Id, out var pending): pending.State = TxnState.PreCommitted; break;
            case OutcomeRecord o: Finish(o.Id, o.Committed); break;
            case SagaStepRecord s: RecoverSagaStep(s); break;
            case SagaCompensationRecord c: RecoverSagaCompensation(c); break;
        }
    }

    // ---- 2PC and 3PC ----

    internal void OnPrepare(Prepare m, long nowMs)
    {
        if (_pending.TryGetValue(m.Id, out var pending))
        {
            pending.LastHeardMs = nowMs;
            _ready.Send(m.From, new Vote(_self, m.Id, true, null));
            return;
        }
        if (_outcomes.Get(m.Id) is { } outcome)
        {
            _ready.Send(m.From, new Vote(_self, m.Id, outcome, outcome ? null : "already aborted here"));
            return;
        }
        if (_waiters.Any(w => w.Prepare.Id == m.Id)) return;
        if (!TryPrepare(m, nowMs)) _waiters.Add(new Waiter(m, nowMs + _config.LockTimeoutMs));
    }

    /// <summary>Takes every lock at once, or none (false: a lock is held by another transaction).</summary>
    private bool TryPrepare(Prepare m, long nowMs)
    {
        var keys = m.Ops.Select(o => o.Key).Distinct(StringComparer.Ordinal).ToArray();
        if (keys.Any(k => _locks.TryGetValue(k, out var holder) && holder != m.Id)) return false;
        var (writes, refusal) = TxnOps.Evaluate(m.Ops, Read);
        if (refusal is not null)
        {
            _outcomes.Set(m.Id, false); // in memory only: a NO voter that forgets answers "aborted" anyway
            _ready.Send(m.From, new Vote(_self, m.Id, false, refusal));
            return true;
        }
        var record = new PreparedRecord(m.Id, m.Protocol, m.Participants, writes);
        foreach (var k in keys) _locks[k] = m.Id;
        _pending[m.Id] = new Pending(record) { SinceMs = nowMs, LastHeardMs = nowMs };
        _ready.Persist(record);
        _ready.Send(m.From, new Vote(_self, m.Id, true, null)); // leaves only once PREPARED is durable
        return true;
    }

    internal void OnPreCommit(PreCommit m, long nowMs)
    {
        if (_pending.TryGetValue(m.Id, out var p))
        {
            p.LastHeardMs = nowMs;
            if (p.State == TxnState.Prepared)
            {
                p.State = TxnState.PreCommitted;
                _ready.Persist(new PreCommittedRecord(m.Id));
            }
            _ready.Send(m.From, new PreCommitAck(_self, m.Id));
        }
        else if (_outcomes.Get(m.Id) == true) _ready.Send(m.From, new PreCommitAck(_self, m.Id));
        // Aborted here (a terminator decided so): no acknowledgement; the coordinator's timeout commits anyway (3PC's anomaly).
    }

    internal void OnDecision(Decision m, long nowMs)
    {
        _waiters.RemoveAll(w => w.Prepare.Id == m.Id);
        if (_pending.ContainsKey(m.Id)) Decide(m.Id, m.Commit);
        else if (_outcomes.Get(m.Id) is null && !m.Commit) _outcomes.Set(m.Id, false);
        // Presumed abort: an abort needs no acknowledgement; a commit does (the coordinator's END waits for it).
        if (m.Commit && m.From == m.Id.Coordinator) _ready.Send(m.From, new DecisionAck(_self, m.Id));
        RetryWaiters(nowMs);
    }

    /// <summary>Makes the outcome durable, applies or drops the staged writes and releases the locks.</summary>
    private void Decide(TxnId id, bool commit)
    {
        _ready.Persist(new OutcomeRecord(id, commit));
        Finish(id, commit);
    }

    private void Finish(TxnId id, bool commit)
    {
        if (_pending.Remove(id, out var p))
        {
            if (commit) ApplyWrites(p.Record.Writes);
            foreach (var w in p.Record.Writes)
                if (_locks.TryGetValue(w.Key, out var holder) && holder == id) _locks.Remove(w.Key);
        }
        _outcomes.Set(id, commit);
    }

    private void ApplyWrites(IEnumerable<TxnWrite> writes)
    {
        foreach (var w in writes)
        {
            if (w.Value is null) _store.Remove(w.Key);
            else _store[w.Key] = w.Value;
        }
    }

    private void RetryWaiters(long nowMs)
    {
        for (var i = 0; i < _waiters.Count;)
        {
            var w = _waiters[i];
            if (TryPrepare(w.Prepare, nowMs)) _waiters.RemoveAt(i);
            else if (nowMs >= w.DeadlineMs)
            {
                _waiters.RemoveAt(i);
                _outcomes.Set(w.Prepare.Id, false);
                _ready.Send(w.Prepare.From, new Vote(_self, w.Prepare.Id, false, $"lock wait timed out after {_config.LockTimeoutMs} ms"));
            }
            else i++;
        }
    }

    internal void Tick(long nowMs)
    {
        RetryWaiters(nowMs);
        foreach (var p in _pending.Values.ToArray())
        {
            p.SinceMs ??= nowMs;
            p.LastHeardMs ??= nowMs - _config.DecisionTimeoutMs; // recovered: ask at once
            if (p.Record.Protocol == TxnProtocol.ThreePhase) TickThreePhase(p, nowMs);
            else TickInDoubt(p, nowMs);
        }
    }

    /// <summary>2PC in doubt: ask the coordinator and, cooperative termination, every other participant; keep the locks meanwhile.</summary>
    private void TickInDoubt(Pending p, long nowMs)
    {
        if (nowMs - p.LastHeardMs < _config.DecisionTimeoutMs) return;
        if (p.LastAskMs is { } last && nowMs - last < _config.RetryMs) return;
        p.LastAskMs = nowMs;
        var id = p.Record.Id;
        _ready.Send(id.Coordinator, new DecisionQuery(_self, id));
        foreach (var peer in p.Record.Participants)
            if (peer != _self) _ready.Send(peer, new StateRequest(_self, id, false));
    }

    internal void OnStateRequest(StateRequest m, long nowMs)
    {
        var state = StateOf(m.Id);
        // An outcome forgotten (beyond outcomes-max) may have been a commit: "uncertain", never a presumed abort.
        if (state == TxnState.Unknown && _outcomes.MayHaveForgotten(m.Id)) state = TxnState.Active;
        else if (state == TxnState.Unknown)
        {
            // Not voted: refuse for good (a later PREPARE gets NO), then say aborted.
            _waiters.RemoveAll(w => w.Prepare.Id == m.Id);
            Decide(m.Id, false);
            state = TxnState.Aborted;
        }
        _ready.Send(m.From, new StateReply(_self, m.Id, state, m.FromCoordinator));
        RetryWaiters(nowMs);
    }

    internal void OnStateReply(StateReply m, long nowMs)
    {
        if (!_pending.TryGetValue(m.Id, out var p)) return;
        if (m.State is TxnState.Committed or TxnState.Aborted)
        {
            Decide(m.Id, m.State == TxnState.Committed);
            RetryWaiters(nowMs);
            return;
        }
        p.Poll?.States.TryAdd(m.From, m.State);
    }

    /// <summary>The committed values, and records that replay the rest: outcomes remembered, prepared transactions, saga steps (without re-applying their writes).</summary>
    internal (IEnumerable<TxnWrite> Store, IEnumerable<object> Records) SnapshotParts()
    {
        var records = new List<object>();
        foreach (var (id, committed) in _outcomes.Entries) records.Add(new OutcomeRecord(id, committed));
        foreach (var p in _pending.Values)
        {
            records.Add(p.Record);
            if (p.State == TxnState.PreCommitted) records.Add(new PreCommittedRecord(p.Record.Id));
        }
        foreach (var ((id, step), state) in _sagaSteps)
        {
            if (state.Step is { } s) records.Add(s with { Writes = [] });
            if (state.Compensated) records.Add(new SagaCompensationRecord(id, step, []));
        }
        return (_store.Select(kv => new TxnWrite(kv.Key, kv.Value)), records);
    }

    public IReadOnlyList<string> CheckInvariants()
    {
        var problems = new List<string>();
        foreach (var (key, holder) in _locks)
            if (!_pending.TryGetValue(holder, out var p) || p.Record.Writes.All(w => w.Key != key)) problems.Add($"key {key} locked by {holder}, which holds no prepared write on it");
        foreach (var p in _pending.Values)
            foreach (var w in p.Record.Writes)
                if (!_locks.TryGetValue(w.Key, out var h) || h != p.Record.Id) problems.Add($"prepared {p.Record.Id} does not hold the lock of {w.Key}");
        return problems;
    }
}

/// <summary>Orders transaction ids by coordinator, then sequence: deterministic iteration.</summary>
public sealed class TxnIdOrder : IComparer<TxnId>
{
    public static readonly TxnIdOrder Instance = new();

    public int Compare(TxnId x, TxnId y) => x.Coordinator != y.Coordinator ? x.Coordinator.CompareTo(y.Coordinator) : x.Seq.CompareTo(y.Seq);
}

/// <summary>
/// Outcomes remembered in memory, at most a limit, oldest forgotten first. Per coordinator it keeps the highest
/// sequence forgotten, so that an id it does not know can be told apart: above that mark it never had an outcome here
/// (presumed abort holds), at or below it the outcome may have been forgotten (a commit, possibly).
/// </summary>
internal sealed class OutcomeMemory(int max)
{
    private readonly Dictionary<TxnId, bool> _outcomes = [];
    private readonly Queue<TxnId> _order = new();
    private readonly Dictionary<NodeId, long> _forgottenSeqMax = [];

    public bool? Get(TxnId id) => _outcomes.TryGetValue(id, out var v) ? v : null;

    /// <summary>Whether <paramref name="id"/>'s outcome may have been here and been forgotten.</summary>
    public bool MayHaveForgotten(TxnId id) => !_outcomes.ContainsKey(id) && _forgottenSeqMax.TryGetValue(id.Coordinator, out var seq) && id.Seq <= seq;

    /// <summary>
    /// After a recovery from a snapshot taken with the memory full, outcomes were forgotten before it without a mark:
    /// every id up to the highest remembered of each coordinator counts as possibly forgotten.
    /// </summary>
    public void MarkForgottenBeforeSnapshot()
    {
        if (_outcomes.Count < max) return;
        foreach (var id in _outcomes.Keys) Forgot(id);
    }

    private void Forgot(TxnId id) => _forgottenSeqMax[id.Coordinator] = Math.Max(id.Seq, _forgottenSeqMax.GetValueOrDefault(id.Coordinator));

    /// <summary>The outcomes remembered, oldest first.</summary>
    public IEnumerable<(TxnId Id, bool Committed)> Entries => _order.Where(_outcomes.ContainsKey).Distinct().Select(id => (id, _outcomes[id]));

    public void Set(TxnId id, bool committed)
    {
        if (_outcomes.TryAdd(id, committed)) _order.Enqueue(id);
        else _outcomes[id] = committed;
        while (_outcomes.Count > max)
        {
            var old = _order.Dequeue();
            if (_outcomes.Remove(old)) Forgot(old);
        }
    }
}

using System.Buffers;
using System.Collections.Immutable;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Quorum;

namespace DistSysActors.Core.Raft;

/// <summary>Outcome of <see cref="RaftNode.Propose"/>.</summary>
public enum ProposeStatus
{
    /// <summary>Appended to this leader's log at the returned index; watch the applied entries for its result.</summary>
    Appended,
    /// <summary>Sent to the leader; the entry's index is unknown here, so match the applied result by client session.</summary>
    Forwarded,
    /// <summary>
    /// Not accepted: no known leader, forwarding disabled, too large, too many uncommitted entries, a leadership
    /// transfer under way, or (membership changes) one not allowed now; <see cref="ProposeResult.Reason"/> says which.
    /// </summary>
    Dropped,
}

/// <summary>Outcome of a proposal; Reason explains a Dropped one (null otherwise).</summary>
public sealed record ProposeResult(ProposeStatus Status, long Index, long Term, NodeId? LeaderId, string? Reason = null);

/// <summary>
/// One Raft node as a deterministic state machine (Raft paper, Ongaro's dissertation). Inputs:
/// <see cref="Step"/> for messages, <see cref="Propose"/> and <see cref="ReadIndex"/> for clients,
/// <see cref="Tick"/> for time. Outputs: <see cref="TakeReady"/>, executed by the host in the order the
/// <see cref="Raft.Ready"/> documents, then acknowledged with <see cref="Advance"/>. Inputs may keep arriving
/// while a Ready is being executed (its disk write in flight); effects they cause go into the next Ready, which
/// can be taken only after the previous one was advanced. Split by concern like etcd's raft: RaftNode.Election.cs,
/// .Replication.cs, .Snapshots.cs, .Membership.cs and .Reads.cs; this file holds the state, the inputs and the Ready.
/// </summary>
public sealed partial class RaftNode : IProtocolCore<RaftMessage, Ready>
{
    private readonly RaftConfig _config;
    private readonly DeterministicRandom _random;
    private readonly RaftLog _log;
    // Membership in force (the latest in the log, dissertation 4.1); the quorum is null while this node knows no voters.
    private Membership _baseMembership;
    private Membership _membership = Membership.Empty;
    private MajorityQuorum? _quorum;
    private ImmutableArray<NodeId> _peers = [];
    private RaftSnapshot? _snapshot;
    // Effects batched until the next Ready: one AppendEntries per follower for all proposals, one heartbeat round for all reads.
    private bool _appendPending;
    private bool _readRoundPending;
    private RaftSnapshot? _snapshotToInstall;
    // Chunks of a leader's snapshot received so far (Raft paper Figure 13).
    private IncomingSnapshot? _incoming;
    // Index of the latest ConfChange entry in the log (0 if none after the snapshot): one change at a time (dissertation 4.1).
    private long _lastConfIndex;
    private int _transferElapsed;
    private bool _timeoutNowSent;
    // A TimeoutNow may arrive late and start an election that passes the voters' leases: no lease for the rest of the term.
    private bool _timeoutNowSentThisTerm;

    private readonly Dictionary<NodeId, bool> _votes = [];
    private readonly SortedDictionary<NodeId, Progress> _progress = [];
    private readonly List<RaftMessage> _messagesBeforePersist = [];
    private readonly List<RaftMessage> _messages = [];

    // Reads: at the leader waiting for a heartbeat round; at a follower waiting for the leader's answer; anywhere waiting to be applied.
    private readonly List<PendingRead> _readsAtLeader = [];
    private readonly List<long> _readsForwarded = [];
    // Added to the id of every read this node forwards, so the leader's answers to an earlier incarnation (whose host
    // numbered its reads the same way) match none of this one's; drawn from this incarnation's random source.
    private readonly long _readIdSalt;
    private readonly List<ReadState> _readsAwaitingApply = [];
    private readonly List<long> _readsDropped = [];
    // Heartbeat round -> the clock (ClockMs) when it was sent: a quorum's answer to a round extends the lease from then.
    private readonly SortedDictionary<long, long> _roundSentMs = [];

    private HardState _persistedHardState;
    // The Ready with a write handed out and not yet advanced; a Ready without writes handed out meanwhile (advanced at once).
    private Ready? _outstanding;
    private Ready? _light;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private long _ticksTotal;
    // The host's monotonic clock as last read (see ClockMs); the leader's lease is measured on it.
    private long _nowMs;
    private long _round;
    private readonly long _quietUntilTick;
    // Replication lag (RaftNode.Lag.cs): when the leader appended each position, when this node learned each commit
    // index, and when it last heard from its leader.
    private readonly IndexTimeline _appendTimeline = new(LagSamplesMax);
    private readonly IndexTimeline _commitTimeline = new(LagSamplesMax);
    private long _leaderContactMs;

    private const int RoundsRememberedMax = 1_024;
    private const int LagSamplesMax = 4_096;
    private const long ReadIdSaltKey = 0x52EAD1D5;

    private sealed record PendingRead(long RequestId, NodeId From, long Index, long Round);

    private sealed class IncomingSnapshot(SnapshotMeta meta)
    {
        public SnapshotMeta Meta { get; } = meta;
        public ArrayBufferWriter<byte> Data { get; } = new();
    }

    /// <summary>
    /// Builds a node from what it persisted (empty for a fresh node). The host rebuilds its state machine from the
    /// persisted snapshot, if any, and then by applying the committed entries after it, which this node hands out.
    /// </summary>
    public RaftNode(RaftConfig config, DeterministicRandom random, RaftPersistentState? persisted = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(random);
        var errors = config.Validate();
        if (errors.Count > 0) throw new ArgumentException("invalid Raft config: " + string.Join("; ", errors), nameof(config));
        _config = config;
        _random = random;
        // From the seed, not the stream: the election timeouts drawn from the stream stay as they were.
        _readIdSalt = (long)new DeterministicRandom(unchecked(random.Seed ^ ReadIdSaltKey)).NextUInt64();
        persisted ??= RaftPersistentState.Empty;
        _snapshot = persisted.Snapshot;
        _log = new RaftLog(persisted.Entries.IsDefault ? [] : persisted.Entries, _snapshot?.Meta.Index ?? 0, _snapshot?.Meta.Term ?? 0);
        _baseMembership = _snapshot?.Meta.Membership ?? new Membership(config.Voters, []);
        RebuildMembership();
        AppliedIndex = _log.SnapshotIndex;
        _appliedAtMs = null;
        var hs = persisted.HardState;
        if (hs.Commit < _log.SnapshotIndex) hs = hs with { Commit = _log.SnapshotIndex };
        if (hs.Commit > _log.LastIndex) throw new ArgumentException($"persisted commit {hs.Commit} beyond last log index {_log.LastIndex}");
        if (_log.LastTerm > hs.Term) throw new ArgumentException($"persisted log term {_log.LastTerm} beyond persisted term {hs.Term}");
        Term = hs.Term;
        VotedFor = hs.Vote;
        CommitIndex = hs.Commit;
        // Recovered commits were known long ago: a delayed apply (RaftConfig.ApplyDelayMs) does not hold them back.
        _commitTimeline.Reset(CommitIndex, RecoveredMs);
        _persistedHardState = hs;
        // A restarted node cannot know whether it acknowledged a leader's lease: it ignores votes for one timeout.
        _quietUntilTick = hs.Term > 0 ? config.ElectionTicks : 0;
        BecomeFollower(Term, null);
    }

    public NodeId Id => _config.Id;
    public RaftConfig Config => _config;
    public RaftRole Role { get; private set; }
    public long Term { get; private set; }
    public NodeId? VotedFor { get; private set; }
    public NodeId? LeaderId { get; private set; }
    public long CommitIndex { get; private set; }
    /// <summary>Highest index the host has applied (acknowledged through Advance).</summary>
    public long AppliedIndex
    {
        get => _appliedIndex;
        private set
        {
            if (value > _appliedIndex) _appliedAtMs = _nowMs;
            _appliedIndex = value;
        }
    }

    private long _appliedIndex;
    // The clock when AppliedIndex last moved (null until it moves after the start): the age of the newest applied entry is at least its age.
    private long? _appliedAtMs;
    public long LastLogIndex => _log.LastIndex;
    public long LastLogTerm => _log.LastTerm;
    /// <summary>The entries held after the snapshot, from <see cref="FirstLogIndex"/>.</summary>
    public IReadOnlyList<LogEntry> Log => _log.Entries;
    public long FirstLogIndex => _log.FirstIndex;
    /// <summary>The latest snapshot this node holds (taken by its host or installed from a leader); null if none.</summary>
    public RaftSnapshot? Snapshot => _snapshot;
    /// <summary>The membership in force: the latest in the log, committed or not.</summary>
    public Membership Membership => _membership;
    /// <summary>The follower a leadership transfer is under way to, if any.</summary>
    public NodeId? TransferTarget { get; private set; }

    /// <summary>A leader's view of every other member's replication, in NodeId order; empty on other roles.</summary>
    public IReadOnlyList<PeerProgress> Peers =>
        Role != RaftRole.Leader ? [] : _progress.Select(p => new PeerProgress(p.Key, _membership.IsVoter(p.Key), p.Value.Match, p.Value.Next, p.Value.RecentActive)).ToList();

    public RaftStatus Status => new(Id, Role, Term, LeaderId, CommitIndex, AppliedIndex, _log.LastIndex, _log.StableIndex,
        _snapshot?.Meta.Index ?? _log.SnapshotIndex, _membership, TransferTarget);

    /// <summary>Whether this leader holds a lease right now (used by lease reads).</summary>
    public bool HasLease => Role == RaftRole.Leader && LeaseValid();

    // ---------------------------------------------------------------- inputs

    /// <summary>
    /// The host's monotonic clock (ms) as this node last read it: the latest <c>nowMs</c> given to
    /// <see cref="Tick(long)"/>, <see cref="Step(RaftMessage, long)"/> or <see cref="ReadIndex(long, ReadMode, long)"/>;
    /// for a host that passes none, <see cref="RaftConfig.TickMs"/> per <see cref="Tick()"/> since the node was built.
    /// </summary>
    public long ClockMs => _nowMs;

    /// <summary>
    /// Advances logical time by one tick, for a host that passes no clock: the node's clock then advances by
    /// <see cref="RaftConfig.TickMs"/> per tick, so a lease counts the ticks processed and a paused process keeps it.
    /// Hosts with a monotonic clock call <see cref="Tick(long)"/> (and the other inputs with their time) instead.
    /// </summary>
    public void Tick()
    {
        _nowMs += _config.TickMs;
        TickOnce();
    }

    /// <summary>One tick at <paramref name="nowMs"/> on the host's monotonic clock (ms; any origin, never going back).</summary>
    public void Tick(long nowMs)
    {
        ObserveClock(nowMs);
        TickOnce();
    }

    private void TickOnce()
    {
        _ticksTotal++;
        if (Role == RaftRole.Leader) TickLeader();
        else TickElection();
    }

    /// <summary>Starts an election now, as if the election timeout had fired.</summary>
    public void Campaign()
    {
        if (Role != RaftRole.Leader && IsVoter) StartElection();
    }

    /// <summary>Proposes a command. A leader appends it; a follower forwards it when it knows a leader.</summary>
    public ProposeResult Propose(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return HandlePropose(new Propose(Id, Id, data));
    }

    /// <summary><see cref="Propose(byte[])"/> at <paramref name="nowMs"/> on the host's monotonic clock (replication lag is measured from it).</summary>
    public ProposeResult Propose(byte[] data, long nowMs)
    {
        ObserveClock(nowMs);
        return Propose(data);
    }

    /// <summary>
    /// Asks for a linearizable read. The answer arrives in a later Ready: in <see cref="Ready.ReadStates"/> (serve the
    /// read after applying that Ready's committed entries) or in <see cref="Ready.ReadsDropped"/> (retry elsewhere).
    /// </summary>
    public void ReadIndex(long requestId, ReadMode mode = ReadMode.ReadIndex)
    {
        HandleReadIndex(new ReadIndexRequest(Id, Id, requestId, mode));
    }

    /// <summary><see cref="ReadIndex(long, ReadMode)"/> asked at <paramref name="nowMs"/> on the host's monotonic clock (a lease read checks its lease then).</summary>
    public void ReadIndex(long requestId, ReadMode mode, long nowMs)
    {
        ObserveClock(nowMs);
        ReadIndex(requestId, mode);
    }

    /// <summary>Feeds one message from a peer.</summary>
    public void Step(RaftMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To != Id) return;

        if (message.Term == 0)
        {
            switch (message)
            {
                case Propose p: HandlePropose(p); break;
                case ReadIndexRequest r: HandleReadIndex(r); break;
            }
            return;
        }

        if (message.Term > Term)
        {
            // Dissertation 4.2.3: don't let a removed or partitioned server disrupt a live leader; a transfer's election
            // was asked for by that leader (3.10), so it passes.
            if (message is RequestVote { Transfer: false } && InLease()) return;
            var keepTerm = message is RequestVote { PreVote: true } || message is RequestVoteResponse { PreVote: true, Granted: true };
            if (!keepTerm)
                BecomeFollower(message.Term, message is AppendEntries or Heartbeat or InstallSnapshot or TimeoutNow ? message.From : null);
        }
        else if (message.Term < Term)
        {
            if ((_config.CheckQuorum || _config.PreVote) && message is AppendEntries or Heartbeat or InstallSnapshot)
                // Tell a stale leader about the newer term; otherwise it could keep a PreVote cluster from progressing.
                Send(new AppendEntriesResponse(Id, message.From, Term, false, 0, 0, 0, 0));
            else if (message is RequestVote { PreVote: true })
                Send(new RequestVoteResponse(Id, message.From, Term, false, true));
            return;
        }

        switch (message)
        {
            case RequestVote rv: HandleRequestVote(rv); break;
            case RequestVoteResponse vr: HandleVoteResponse(vr); break;
            case AppendEntries ae:
                if (Role == RaftRole.Leader) return; // two leaders in one term cannot exist (section 5.2)
                if (Role != RaftRole.Follower) BecomeFollower(ae.Term, ae.From);
                HandleAppendEntries(ae);
                break;
            case Heartbeat hb:
                if (Role == RaftRole.Leader) return;
                if (Role != RaftRole.Follower) BecomeFollower(hb.Term, hb.From);
                HandleHeartbeat(hb);
                break;
            case AppendEntriesResponse ar: if (Role == RaftRole.Leader) HandleAppendResponse(ar); break;
            case HeartbeatResponse hr: if (Role == RaftRole.Leader) HandleHeartbeatResponse(hr); break;
            case ReadIndexResponse rr: HandleReadIndexResponse(rr); break;
            case InstallSnapshot snap:
                if (Role == RaftRole.Leader) return;
                if (Role != RaftRole.Follower) BecomeFollower(snap.Term, snap.From);
                HandleInstallSnapshot(snap);
                break;
            case InstallSnapshotResponse sr: if (Role == RaftRole.Leader) HandleSnapshotResponse(sr); break;
            case TimeoutNow tn:
                // Dissertation 3.10: only the current leader may ask; the election skips PreVote and passes voters' leases.
                if (Role == RaftRole.Follower && tn.From == LeaderId && IsVoter) BecomeCandidate(transfer: true);
                break;
        }
    }

    // ---------------------------------------------------------------- Ready / Advance

    /// <summary>
    /// Work for a Ready. While a Ready with a disk write is outstanding, only work that needs no write counts: traffic
    /// that promises nothing about this node's disk, committed entries to apply and reads to answer (see <see cref="TakeReady"/>).
    /// </summary>
    public bool HasReady =>
        _outstanding is null ? HasWriteWork || _messages.Count > 0 || HasLightWork(applies: true) : HasLightWork(applies: AppliesWhileWriting);

    /// <summary>Committed entries may be applied beside the outstanding write unless a snapshot is being installed (it is applied first).</summary>
    private bool AppliesWhileWriting => _outstanding?.Snapshot is null && _snapshotToInstall is null;

    /// <summary>Something to make durable: term/vote/commit, unstable entries, or a snapshot to install.</summary>
    private bool HasWriteWork => _snapshotToInstall is not null || CurrentHardState() != _persistedHardState || _log.StableIndex < _log.LastIndex;

    /// <summary>Effects that need no write of this node: pre-persist traffic, commits to announce, applies, read answers.</summary>
    private bool HasLightWork(bool applies) =>
        _appendPending || _readRoundPending || _messagesBeforePersist.Count > 0 || CommitNoticeDue || _readsDropped.Count > 0
        || (applies && (ApplyLimit > AppliedIndex || _readsAwaitingApply.Any(r => r.Index <= AppliedIndex)));

    /// <summary>Committed entries to apply or reads to answer, which must not wait for a write of this node.</summary>
    private bool HasApplyWork => ApplyLimit > AppliedIndex || _readsDropped.Count > 0 || _readsAwaitingApply.Any(r => r.Index <= AppliedIndex);

    /// <summary>A follower holds entries the leader committed but has not been told so.</summary>
    private bool CommitNoticeDue => Role == RaftRole.Leader && _progress.Values.Any(pr => Math.Min(pr.Match, CommitIndex) > pr.CommitSent);

    /// <summary>
    /// Takes the buffered effects. Committed entries and read answers never wait for a write of this node: when they and
    /// a write are both pending, this Ready has them (and the traffic that promises nothing) without the write, and the
    /// next has the write (with the messages that promise it). While a Ready with a write is outstanding, only Readies without writes are handed out; the next
    /// write waits for <see cref="Advance"/> of the outstanding one. A snapshot being installed keeps everything in one
    /// Ready (restore, then the entries after it).
    /// </summary>
    public Ready TakeReady()
    {
        if (_light is not null) throw new InvalidOperationException("a Ready without writes is outstanding: call Advance first");
        if (_outstanding is not null && !HasReady) throw new InvalidOperationException("a Ready is outstanding: call Advance first");
        if (_appendPending)
        {
            _appendPending = false;
            if (Role == RaftRole.Leader) BroadcastAppend(sendIfEmpty: false);
        }
        if (_readRoundPending)
        {
            _readRoundPending = false;
            if (Role == RaftRole.Leader) BroadcastHeartbeat();
        }
        // A commit that no append of this Ready carries goes out at once, not with the next tick's heartbeat: followers
        // answer the clients whose requests they forwarded only when they apply.
        if (Role == RaftRole.Leader)
            foreach (var (peer, pr) in _progress)
                if (Math.Min(pr.Match, CommitIndex) > pr.CommitSent) SendCommitNotice(peer, pr);
        var installing = _snapshotToInstall is not null;
        var applies = _outstanding is null ? !installing : AppliesWhileWriting;
        // Committed entries are durable on a majority: applying them needs no write of this node.
        var light = _outstanding is not null || (!installing && HasWriteWork && HasApplyWork);
        var hs = CurrentHardState();
        // An installed snapshot replaces the state machine through its index; entries after it are applied on top.
        var appliedBefore = Math.Max(AppliedIndex, _snapshotToInstall?.Meta.Index ?? 0);
        var withApplies = !light || applies;
        var committed = withApplies ? _log.Slice(appliedBefore + 1, ApplyLimit, _config.ApplyEntriesMax, long.MaxValue) : [];
        var applyingTo = committed.Count > 0 ? committed[^1].Index : appliedBefore;
        var reads = withApplies ? _readsAwaitingApply.Where(r => r.Index <= applyingTo).ToImmutableArray() : [];
        if (!reads.IsEmpty) _readsAwaitingApply.RemoveAll(r => r.Index <= applyingTo);
        var ready = light
            ? new Ready(null, [], [.. _messagesBeforePersist], [], [.. committed], reads, [.. _readsDropped])
            : new Ready(
                hs == _persistedHardState ? null : hs,
                _log.Slice(_log.StableIndex + 1, _log.LastIndex, int.MaxValue, long.MaxValue).ToImmutableArray(),
                [.. _messagesBeforePersist],
                [.. _messages],
                [.. committed],
                reads,
                [.. _readsDropped],
                _snapshotToInstall);
        _messagesBeforePersist.Clear();
        _readsDropped.Clear();
        if (light)
        {
            _light = ready;
            return ready;
        }
        _snapshotToInstall = null;
        _messages.Clear();
        _outstanding = ready;
        return ready;
    }

    /// <summary>The host executed <paramref name="ready"/>: its state and entries are durable and its committed entries applied.</summary>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (ReferenceEquals(ready, _light))
        {
            _light = null;
            if (!ready.CommittedEntries.IsEmpty) AppliedIndex = ready.CommittedEntries[^1].Index;
            if (Role == RaftRole.Leader) AfterLeaderProgress();
            return;
        }
        if (!ReferenceEquals(ready, _outstanding)) throw new InvalidOperationException("Advance must be given a Ready returned by TakeReady and not yet advanced");
        _outstanding = null;
        if (ready.HardState is not null) _persistedHardState = ready.HardState;
        if (ready.Snapshot is not null) AppliedIndex = Math.Max(AppliedIndex, ready.Snapshot.Meta.Index);
        // A snapshot installed since this Ready was taken makes the host rewrite its whole log: these entries are not kept.
        if (!ready.Entries.IsEmpty && _snapshotToInstall is null) _log.StableTo(ready.Entries[^1].Index, ready.Entries[^1].Term);
        if (!ready.CommittedEntries.IsEmpty) AppliedIndex = ready.CommittedEntries[^1].Index;
        // The leader's own durable entries now count toward the commit quorum (dissertation 10.2.1).
        if (Role == RaftRole.Leader)
        {
            MaybeCommit();
            AfterLeaderProgress();
        }
    }

    private HardState CurrentHardState() => new(Term, VotedFor, CommitIndex);

    // ---------------------------------------------------------------- output

    private void Send(RaftMessage m) => _messages.Add(m);

    /// <summary>
    /// Traffic that promises nothing about this node's disk leaves before the Ready is persisted, and while an earlier
    /// write is in flight: a leader's appends, heartbeats, snapshot chunks and TimeoutNow; heartbeat answers, forwarded
    /// proposals and reads, ReadIndex answers, pre-vote grants and acknowledgements of non-final snapshot chunks.
    /// </summary>
    private void SendBeforePersist(RaftMessage m) => _messagesBeforePersist.Add(m);

    // ---------------------------------------------------------------- shared core contract

    /// <summary>
    /// The contract's input: one message received at <paramref name="nowMs"/> on the host's monotonic clock. Elections
    /// and heartbeats count ticks (the host paces them); the clock measures the leader's lease (see <see cref="ClockMs"/>).
    /// </summary>
    public void Step(RaftMessage message, long nowMs)
    {
        ObserveClock(nowMs);
        Step(message);
    }

    private void ObserveClock(long nowMs)
    {
        if (nowMs > _nowMs) _nowMs = nowMs;
    }

    /// <summary>
    /// What holds on any single node at any time: commit within the log, applied within commit, no log term beyond the
    /// current term, the snapshot inside the committed prefix, and a leader that leads itself and tracks only peers whose
    /// match it can have sent. Cross-node properties (election safety, log matching, durability) are the simulator's checker's.
    /// </summary>
    public IReadOnlyList<string> CheckInvariants()
    {
        List<string>? broken = null;
        if (CommitIndex > _log.LastIndex) Add($"commit {CommitIndex} beyond last log index {_log.LastIndex}");
        if (AppliedIndex > CommitIndex) Add($"applied {AppliedIndex} beyond commit {CommitIndex}");
        if (_log.LastTerm > Term) Add($"last log term {_log.LastTerm} beyond term {Term}");
        if (_log.SnapshotIndex > CommitIndex) Add($"snapshot {_log.SnapshotIndex} beyond commit {CommitIndex}");
        if (_persistedHardState.Term > Term) Add($"persisted term {_persistedHardState.Term} beyond term {Term}");
        if (Role == RaftRole.Leader)
        {
            if (LeaderId != Id) Add($"leader whose leader is {LeaderId?.ToString() ?? "unknown"}");
            if (_progress.ContainsKey(Id)) Add("leader tracks progress for itself");
            foreach (var (peer, pr) in _progress)
                if (pr.Match > _log.LastIndex) Add($"peer {peer} match {pr.Match} beyond last log index {_log.LastIndex}");
        }
        return broken is null ? [] : broken;

        void Add(string violation) => (broken ??= []).Add($"node {Id}: {violation}");
    }

    public override string ToString() => $"raft {Id} {Role} t{Term} lead={LeaderId?.ToString() ?? "-"} commit={CommitIndex} last={_log.LastIndex}";
}

using System.Buffers;
using System.Collections.Immutable;
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
/// can be taken only after the previous one was advanced.
/// </summary>
public sealed class RaftNode
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
    private readonly List<ReadState> _readsAwaitingApply = [];
    private readonly List<long> _readsDropped = [];
    private readonly SortedDictionary<long, long> _roundSentTick = [];

    private HardState _persistedHardState;
    private Ready? _outstanding;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private long _ticksTotal;
    private long _round;
    private readonly long _quietUntilTick;

    private const int RoundsRememberedMax = 1_024;

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
        persisted ??= RaftPersistentState.Empty;
        _snapshot = persisted.Snapshot;
        _log = new RaftLog(persisted.Entries.IsDefault ? [] : persisted.Entries, _snapshot?.Meta.Index ?? 0, _snapshot?.Meta.Term ?? 0);
        _baseMembership = _snapshot?.Meta.Membership ?? new Membership(config.Voters, []);
        RebuildMembership();
        AppliedIndex = _log.SnapshotIndex;
        var hs = persisted.HardState;
        if (hs.Commit < _log.SnapshotIndex) hs = hs with { Commit = _log.SnapshotIndex };
        if (hs.Commit > _log.LastIndex) throw new ArgumentException($"persisted commit {hs.Commit} beyond last log index {_log.LastIndex}");
        if (_log.LastTerm > hs.Term) throw new ArgumentException($"persisted log term {_log.LastTerm} beyond persisted term {hs.Term}");
        Term = hs.Term;
        VotedFor = hs.Vote;
        CommitIndex = hs.Commit;
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
    public long AppliedIndex { get; private set; }
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
        _log.SnapshotIndex, _membership, TransferTarget);

    /// <summary>Whether this leader holds a lease right now (used by lease reads).</summary>
    public bool HasLease => Role == RaftRole.Leader && LeaseValid();

    // ---------------------------------------------------------------- inputs

    /// <summary>Advances logical time by one tick.</summary>
    public void Tick()
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

    /// <summary>
    /// Asks for a linearizable read. The answer arrives in a later Ready: in <see cref="Ready.ReadStates"/> (serve the
    /// read after applying that Ready's committed entries) or in <see cref="Ready.ReadsDropped"/> (retry elsewhere).
    /// </summary>
    public void ReadIndex(long requestId, ReadMode mode = ReadMode.ReadIndex)
    {
        HandleReadIndex(new ReadIndexRequest(Id, Id, requestId, mode));
    }

    /// <summary>
    /// The meta a snapshot of the state machine taken right after applying <paramref name="index"/> must carry: the
    /// entry's term and the membership in force at that index. The index must be applied and still in the log.
    /// </summary>
    public SnapshotMeta SnapshotMetaAt(long index)
    {
        if (index > AppliedIndex) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is not applied (applied {AppliedIndex})");
        if (index == _log.SnapshotIndex && _snapshot is not null) return _snapshot.Meta;
        var term = _log.TermAt(index) ?? throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is not in the log ({_log.FirstIndex}..{_log.LastIndex})");
        return new SnapshotMeta(index, term, MembershipThrough(index));
    }

    /// <summary>
    /// The host saved <paramref name="snapshot"/> (state machine through Meta.Index, made with <see cref="SnapshotMetaAt"/>)
    /// durably: the log is compacted through it and it is what this node sends to followers that need compacted entries.
    /// The host may then delete its stored entries through Meta.Index (and keep those after it). Allowed at any time,
    /// also while a Ready is outstanding (the index is at most <see cref="AppliedIndex"/>, which only Advance moves, so
    /// the outstanding Ready's entries all lie after it). Snapshots not newer than the current one are ignored.
    /// </summary>
    public void Compact(RaftSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Meta.Index <= _log.SnapshotIndex) return;
        if (snapshot.Meta.Index > AppliedIndex) throw new ArgumentException($"snapshot index {snapshot.Meta.Index} is beyond the applied index {AppliedIndex}", nameof(snapshot));
        if (_log.TermAt(snapshot.Meta.Index) != snapshot.Meta.Term) throw new ArgumentException($"snapshot {snapshot.Meta.Index}@{snapshot.Meta.Term} does not match the log", nameof(snapshot));
        _log.CompactTo(snapshot.Meta.Index);
        _snapshot = snapshot;
        _baseMembership = snapshot.Meta.Membership;
    }

    /// <summary>
    /// Proposes a single-server membership change (dissertation 4.2). Only a leader accepts it, one change at a time,
    /// and only after it has committed an entry of its own term; Dropped otherwise.
    /// </summary>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        string? reason = null;
        if (Role != RaftRole.Leader) reason = "not the leader";
        else if (TransferTarget is not null) reason = "a leadership transfer is under way";
        // Dissertation 4.1 (bug fix): a leader changes membership only after committing an entry of its own term.
        else if (!CommittedInCurrentTerm) reason = "the leader has not committed an entry of its term yet";
        else if (_lastConfIndex > CommitIndex) reason = $"the membership change at index {_lastConfIndex} is not committed yet";
        else if (_log.LastIndex - CommitIndex >= _config.UncommittedEntriesMax) reason = "too many uncommitted entries";
        else reason = _membership.Check(change);
        if (reason is not null) return new ProposeResult(ProposeStatus.Dropped, 0, 0, LeaderId, reason);

        var after = _membership.Apply(change);
        var entry = new LogEntry(_log.LastIndex + 1, Term, EntryType.ConfChange, change.EncodeEntry(after));
        _log.Append(entry);
        _lastConfIndex = entry.Index;
        SetMembership(after); // takes effect on append, before it commits (dissertation 4.1)
        _appendPending = true;
        return new ProposeResult(ProposeStatus.Appended, entry.Index, entry.Term, Id);
    }

    /// <summary>
    /// Starts a leadership transfer to <paramref name="target"/> (dissertation 3.10): the leader stops accepting
    /// proposals, brings the target up to date, then sends it TimeoutNow. False when not leader or the target is not a
    /// voter. The transfer is abandoned after TransferTimeoutElections election timeouts.
    /// </summary>
    public bool TransferLeadership(NodeId target)
    {
        if (Role != RaftRole.Leader || target == Id || !_membership.IsVoter(target) || !_progress.TryGetValue(target, out var pr)) return false;
        if (TransferTarget == target) return true;
        TransferTarget = target;
        _transferElapsed = 0;
        _timeoutNowSent = false;
        if (pr.Match == _log.LastIndex) SendTimeoutNow(target);
        else SendAppend(target, sendIfEmpty: true);
        return true;
    }

    /// <summary>
    /// The other voter with the highest Match (lowest NodeId on ties): the natural target of a leadership transfer when
    /// the user names none. Null when not leader or there is no other voter.
    /// </summary>
    public NodeId? MostCaughtUpVoter()
    {
        if (Role != RaftRole.Leader) return null;
        NodeId? best = null;
        long bestMatch = -1;
        foreach (var (peer, pr) in _progress)
            if (_membership.IsVoter(peer) && pr.Match > bestMatch) { best = peer; bestMatch = pr.Match; }
        return best;
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

    // ---------------------------------------------------------------- membership

    /// <summary>Membership after every ConfChange entry through index (the snapshot's membership plus the log's changes).</summary>
    private Membership MembershipThrough(long index)
    {
        var m = _baseMembership;
        for (var i = _log.FirstIndex; i <= Math.Min(index, _log.LastIndex); i++)
        {
            var e = _log.At(i);
            if (e.Type == EntryType.ConfChange) m = After(m, e);
        }
        return m;
    }

    /// <summary>The membership a ConfChange entry leads to: the one it carries, else its change applied (if valid).</summary>
    private static Membership After(Membership m, LogEntry e)
    {
        if (ConfChange.DecodeMembership(e.Data) is { } carried) return carried;
        var change = ConfChange.Decode(e.Data);
        return m.Check(change) is null ? m.Apply(change) : m;
    }

    /// <summary>Recomputes the membership in force from the snapshot and the whole log (after start, truncation or a snapshot).</summary>
    private void RebuildMembership()
    {
        _lastConfIndex = 0;
        for (var i = _log.LastIndex; i >= _log.FirstIndex; i--)
            if (_log.At(i).Type == EntryType.ConfChange) { _lastConfIndex = i; break; }
        SetMembership(MembershipThrough(_log.LastIndex));
    }

    private void SetMembership(Membership m)
    {
        _membership = m;
        _quorum = m.Voters.IsEmpty ? null : new MajorityQuorum(m.Voters);
        _peers = m.All.Where(n => n != Id).Order().ToImmutableArray();
        if (Role == RaftRole.Leader)
        {
            foreach (var peer in _peers)
                if (!_progress.ContainsKey(peer)) _progress[peer] = NewProgress();
            foreach (var gone in _progress.Keys.Where(p => !_peers.Contains(p)).ToList()) _progress.Remove(gone);
            if (TransferTarget is { } target && !m.IsVoter(target)) TransferTarget = null;
        }
    }

    /// <summary>Progress of a new peer: probing from the leader's last index + 1.</summary>
    private Progress NewProgress() => new(_log.LastIndex + 1, _config.InflightMessagesMax, _config.InflightBytesMax);

    private bool IsVoter => _membership.IsVoter(Id);

    /// <summary>Whether this node is the only voter (then nobody else's answer is needed).</summary>
    private bool SoleVoter => _membership.Voters.Length == 1 && _membership.Voters[0] == Id;

    // ---------------------------------------------------------------- Ready / Advance

    public bool HasReady =>
        _outstanding is null && (
            _appendPending || _readRoundPending || _snapshotToInstall is not null
            || CurrentHardState() != _persistedHardState
            || _log.StableIndex < _log.LastIndex
            || _messages.Count > 0 || _messagesBeforePersist.Count > 0
            || CommitIndex > AppliedIndex
            || _readsAwaitingApply.Any(r => r.Index <= AppliedIndex)
            || _readsDropped.Count > 0
            || CommitNoticeDue);

    /// <summary>A follower holds entries the leader committed but has not been told so.</summary>
    private bool CommitNoticeDue => Role == RaftRole.Leader && _progress.Values.Any(pr => Math.Min(pr.Match, CommitIndex) > pr.CommitSent);

    /// <summary>Takes the buffered effects; the next Ready can be taken only after <see cref="Advance"/> of this one.</summary>
    public Ready TakeReady()
    {
        EnsureNoOutstandingReady();
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
        var hs = CurrentHardState();
        // An installed snapshot replaces the state machine through its index; entries after it are applied on top.
        var appliedBefore = Math.Max(AppliedIndex, _snapshotToInstall?.Meta.Index ?? 0);
        var committed = _log.Slice(appliedBefore + 1, CommitIndex, _config.ApplyEntriesMax, long.MaxValue);
        var applyingTo = committed.Count > 0 ? committed[^1].Index : appliedBefore;
        var reads = _readsAwaitingApply.Where(r => r.Index <= applyingTo).ToImmutableArray();
        _readsAwaitingApply.RemoveAll(r => r.Index <= applyingTo);
        var ready = new Ready(
            hs == _persistedHardState ? null : hs,
            _log.Slice(_log.StableIndex + 1, _log.LastIndex, int.MaxValue, long.MaxValue).ToImmutableArray(),
            [.. _messagesBeforePersist],
            [.. _messages],
            [.. committed],
            reads,
            [.. _readsDropped],
            _snapshotToInstall);
        _snapshotToInstall = null;
        _messagesBeforePersist.Clear();
        _messages.Clear();
        _readsDropped.Clear();
        _outstanding = ready;
        return ready;
    }

    /// <summary>The host executed <paramref name="ready"/>: its state and entries are durable and its committed entries applied.</summary>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (!ReferenceEquals(ready, _outstanding)) throw new InvalidOperationException("Advance must be given the Ready returned by the last TakeReady");
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

    private void EnsureNoOutstandingReady()
    {
        if (_outstanding is not null) throw new InvalidOperationException("a Ready is outstanding: call Advance first");
    }

    // ---------------------------------------------------------------- roles

    private void ResetTimers()
    {
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _random.NextInt(_config.ElectionTicks, 2 * _config.ElectionTicks);
    }

    private void BecomeFollower(long term, NodeId? leader)
    {
        var leaderChanged = leader != LeaderId || term != Term;
        if (term != Term)
        {
            Term = term;
            VotedFor = null;
            _incoming = null; // chunks from an older leader will not be completed
        }
        if (Role == RaftRole.Leader) DropLeaderReads();
        if (leaderChanged) DropForwardedReads();
        TransferTarget = null;
        Role = RaftRole.Follower;
        LeaderId = leader;
        _progress.Clear();
        ResetTimers();
    }

    private void StartElection()
    {
        if (_config.PreVote) BecomePreCandidate();
        else BecomeCandidate();
    }

    private void BecomePreCandidate()
    {
        DropForwardedReads();
        Role = RaftRole.PreCandidate;
        LeaderId = null;
        _votes.Clear();
        ResetTimers();
        _votes[Id] = true;
        if (_quorum!.Vote(_votes) == VoteResult.Won) { BecomeCandidate(); return; }
        foreach (var peer in _peers)
            Send(new RequestVote(Id, peer, Term + 1, _log.LastIndex, _log.LastTerm, true));
    }

    private void BecomeCandidate(bool transfer = false)
    {
        DropForwardedReads();
        Role = RaftRole.Candidate;
        Term++;
        VotedFor = Id;
        LeaderId = null;
        _votes.Clear();
        ResetTimers();
        _votes[Id] = true;
        if (_quorum!.Vote(_votes) == VoteResult.Won) { BecomeLeader(); return; }
        foreach (var peer in _peers)
            Send(new RequestVote(Id, peer, Term, _log.LastIndex, _log.LastTerm, false, transfer));
    }

    private void BecomeLeader()
    {
        Role = RaftRole.Leader;
        LeaderId = Id;
        TransferTarget = null;
        _timeoutNowSentThisTerm = false;
        ResetTimers();
        _progress.Clear();
        foreach (var peer in _peers)
            _progress[peer] = NewProgress();
        _roundSentTick.Clear();
        // Section 8 of the paper: a no-op entry commits the new term, which also fixes the read index.
        _log.Append(new LogEntry(_log.LastIndex + 1, Term, EntryType.NoOp, LogEntry.EmptyData));
        BroadcastAppend(sendIfEmpty: true);
    }

    // ---------------------------------------------------------------- time

    private void TickElection()
    {
        _electionElapsed++;
        if (!IsVoter) return; // learners, removed nodes and nodes waiting to join never campaign
        if (_electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            StartElection();
        }
    }

    private void TickLeader()
    {
        _electionElapsed++;
        _heartbeatElapsed++;
        if (_electionElapsed >= _config.ElectionTicks)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum)
            {
                // Dissertation 6.2: a leader that has not heard from a majority for an election timeout steps down.
                var active = _progress.Where(p => p.Value.RecentActive).Select(p => p.Key).Append(Id);
                if (!_quorum!.IsQuorum(active))
                {
                    BecomeFollower(Term, null);
                    return;
                }
                foreach (var pr in _progress.Values) pr.RecentActive = false;
            }
        }
        if (TransferTarget is not null && ++_transferElapsed >= _config.TransferTimeoutElections * _config.ElectionTicks)
            TransferTarget = null; // the target did not take over in time: serve proposals again
        foreach (var (peer, pr) in _progress)
        {
            // A chunk lost or a follower slow to persist must not stall the snapshot forever: send it again.
            if (pr.State == ProgressState.Snapshot && pr.SnapshotChunkInFlight && _ticksTotal - pr.SnapshotChunkSentTick >= _config.ElectionTicks)
            {
                pr.OnSnapshotChunkTimeout();
                SendAppend(peer, sendIfEmpty: true);
            }
        }
        if (_heartbeatElapsed >= _config.HeartbeatTicks)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat();
            MaybePromoteLearner();
        }
    }

    /// <summary>A follower that heard from a leader within the election timeout ignores vote requests (with CheckQuorum).</summary>
    private bool InLease() =>
        _config.CheckQuorum && (LeaderId is not null && _electionElapsed < _config.ElectionTicks
            || _ticksTotal < _quietUntilTick);

    // ---------------------------------------------------------------- elections

    private void HandleRequestVote(RequestVote m)
    {
        var canVote = VotedFor == m.From
            || (VotedFor is null && LeaderId is null)
            || (m.PreVote && m.Term > Term);
        if (canVote && _log.IsUpToDate(m.LastLogIndex, m.LastLogTerm))
        {
            Send(new RequestVoteResponse(Id, m.From, m.PreVote ? m.Term : Term, true, m.PreVote));
            if (!m.PreVote)
            {
                VotedFor = m.From;
                _electionElapsed = 0;
            }
        }
        else
        {
            Send(new RequestVoteResponse(Id, m.From, Term, false, m.PreVote));
        }
    }

    private void HandleVoteResponse(RequestVoteResponse m)
    {
        if (Role == RaftRole.PreCandidate && m.PreVote && (m.Granted ? m.Term == Term + 1 : m.Term == Term))
        {
            _votes.TryAdd(m.From, m.Granted);
            switch (_quorum!.Vote(_votes))
            {
                case VoteResult.Won: BecomeCandidate(); break;
                case VoteResult.Lost: BecomeFollower(Term, null); break;
            }
        }
        else if (Role == RaftRole.Candidate && !m.PreVote && m.Term == Term)
        {
            _votes.TryAdd(m.From, m.Granted);
            switch (_quorum!.Vote(_votes))
            {
                case VoteResult.Won: BecomeLeader(); break;
                case VoteResult.Lost: BecomeFollower(Term, null); break;
            }
        }
    }

    // ---------------------------------------------------------------- replication (follower side)

    private void HandleAppendEntries(AppendEntries m)
    {
        _electionElapsed = 0;
        LeaderId = m.From;
        if (m.PrevLogIndex < CommitIndex)
        {
            // Everything through our commit index already matches any leader's log (Leader Completeness): skip that part.
            var skip = (int)Math.Min(CommitIndex - m.PrevLogIndex, m.Entries.Length);
            if (skip == m.Entries.Length)
            {
                Send(new AppendEntriesResponse(Id, m.From, Term, true, CommitIndex, 0, 0, 0));
                return;
            }
            m = m with { PrevLogIndex = CommitIndex, PrevLogTerm = _log.TermAt(CommitIndex)!.Value, Entries = m.Entries[skip..] };
        }
        if (!_log.MatchTerm(m.PrevLogIndex, m.PrevLogTerm))
        {
            // Section 5.3 consistency check failed: hint where the leader should look next.
            long conflictIndex, conflictTerm;
            var termThere = _log.TermAt(m.PrevLogIndex);
            if (termThere is null)
            {
                conflictIndex = _log.LastIndex + 1;
                conflictTerm = 0;
            }
            else
            {
                conflictTerm = termThere.Value;
                conflictIndex = _log.FirstIndexOfTermAt(m.PrevLogIndex, CommitIndex);
            }
            Send(new AppendEntriesResponse(Id, m.From, Term, false, 0, m.PrevLogIndex, conflictIndex, conflictTerm));
            return;
        }
        var membershipChanged = false;
        foreach (var e in m.Entries)
        {
            if (_log.MatchTerm(e.Index, e.Term)) continue;
            if (e.Index <= CommitIndex) throw new InvalidOperationException($"node {Id}: entry {e} conflicts with committed index {CommitIndex}");
            // Truncating an uncommitted ConfChange rolls the membership back to the previous one in the log.
            membershipChanged |= e.Index <= _lastConfIndex && e.Index <= _log.LastIndex;
            _log.TruncateFrom(e.Index);
            _log.Append(e);
            membershipChanged |= e.Type == EntryType.ConfChange;
        }
        if (membershipChanged) RebuildMembership();
        var lastNew = m.PrevLogIndex + m.Entries.Length;
        CommitTo(Math.Min(m.LeaderCommit, lastNew));
        Send(new AppendEntriesResponse(Id, m.From, Term, true, lastNew, 0, 0, 0));
    }

    /// <summary>
    /// Raft paper Figure 13: assemble the chunks in order; on the last, replace the log by the snapshot (keeping a
    /// matching suffix) and hand it to the host. Answers wait for the Ready's persistence like append acknowledgements.
    /// </summary>
    private void HandleInstallSnapshot(InstallSnapshot m)
    {
        _electionElapsed = 0;
        LeaderId = m.From;
        var meta = m.Meta;
        if (meta.Index <= CommitIndex)
        {
            // Already covered by what this node holds (or is installing): nothing to do.
            _incoming = null;
            Send(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, 0, true));
            return;
        }
        if (m.Offset == 0) _incoming = new IncomingSnapshot(meta);
        var have = _incoming is not null && _incoming.Meta == meta ? _incoming.Data.WrittenCount : 0;
        if (_incoming is null || _incoming.Meta != meta || m.Offset != have)
        {
            Send(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, have, false));
            return;
        }
        if (have + (long)m.Data.Length > _config.SnapshotBytesMax)
        {
            _incoming = null;
            Send(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, 0, false));
            return;
        }
        _incoming.Data.Write(m.Data);
        if (!m.Done)
        {
            Send(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, _incoming.Data.WrittenCount, false));
            return;
        }
        var snapshot = new RaftSnapshot(meta, _incoming.Data.WrittenSpan.ToArray());
        _incoming = null;
        _log.RestoreSnapshot(meta.Index, meta.Term);
        _snapshot = snapshot;
        _baseMembership = meta.Membership;
        RebuildMembership();
        CommitIndex = meta.Index;
        _snapshotToInstall = snapshot;
        Send(new InstallSnapshotResponse(Id, m.From, Term, meta.Index, snapshot.Data.Length, true));
    }

    private void HandleHeartbeat(Heartbeat m)
    {
        _electionElapsed = 0;
        LeaderId = m.From;
        // The leader caps Commit at what it knows we hold, so it never exceeds our matching prefix.
        CommitTo(Math.Min(m.Commit, _log.LastIndex));
        Send(new HeartbeatResponse(Id, m.From, Term, m.Round));
    }

    private void CommitTo(long index)
    {
        if (index > CommitIndex) CommitIndex = index;
    }

    // ---------------------------------------------------------------- replication (leader side)

    private void BroadcastAppend(bool sendIfEmpty)
    {
        foreach (var peer in _peers) SendAppend(peer, sendIfEmpty);
    }

    private bool SendAppend(NodeId peer, bool sendIfEmpty)
    {
        var pr = _progress[peer];
        if (pr.State == ProgressState.Snapshot) return SendSnapshotChunk(peer, pr);
        if (pr.IsPaused) return false;
        if (pr.Next <= _log.SnapshotIndex)
        {
            // Section 7 of the paper: the entries this follower needs were compacted; send the snapshot instead.
            pr.BecomeSnapshot(_snapshot ?? throw new InvalidOperationException($"leader {Id} compacted to {_log.SnapshotIndex} without a snapshot"));
            return SendSnapshotChunk(peer, pr);
        }
        var prevIndex = pr.Next - 1;
        var prevTerm = _log.TermAt(prevIndex) ?? throw new InvalidOperationException($"leader {Id} has no entry {prevIndex} for {peer}");
        var entries = _log.Slice(pr.Next, _log.LastIndex, _config.AppendEntriesMax, _config.AppendBytesMax);
        if (entries.Count == 0 && !sendIfEmpty) return false;
        SendBeforePersist(new AppendEntries(Id, peer, Term, prevIndex, prevTerm, [.. entries], CommitIndex));
        pr.CommitSent = Math.Max(pr.CommitSent, Math.Min(CommitIndex, prevIndex + entries.Count));
        pr.OnSent(entries.Count > 0 ? entries[^1].Index : prevIndex, entries.Count, entries.Sum(e => (long)e.Data.Length));
        return true;
    }

    /// <summary>The next chunk of the pending snapshot, unless one is in flight.</summary>
    private bool SendSnapshotChunk(NodeId peer, Progress pr)
    {
        if (pr.SnapshotChunkInFlight) return false;
        var snapshot = pr.PendingSnapshot!;
        var offset = (int)pr.SnapshotOffset;
        var length = Math.Min(_config.SnapshotChunkBytes, snapshot.Data.Length - offset);
        var done = offset + length == snapshot.Data.Length;
        SendBeforePersist(new InstallSnapshot(Id, peer, Term, snapshot.Meta, offset, snapshot.Data.AsSpan(offset, length).ToArray(), done));
        pr.OnSnapshotChunkSent(_ticksTotal);
        return true;
    }

    private void HandleSnapshotResponse(InstallSnapshotResponse m)
    {
        if (!_progress.TryGetValue(m.From, out var pr)) return;
        pr.RecentActive = true;
        if (!m.Done)
        {
            if (pr.State == ProgressState.Snapshot && pr.PendingSnapshot!.Meta.Index == m.SnapshotIndex)
            {
                pr.OnSnapshotChunkAnswered(m.NextOffset);
                SendAppend(m.From, sendIfEmpty: true);
            }
            return;
        }
        // The follower holds everything through the snapshot: continue with the entries after it.
        pr.MaybeUpdate(m.SnapshotIndex);
        if (pr.State == ProgressState.Probe || pr.State == ProgressState.Snapshot && pr.Match >= pr.PendingSnapshot!.Meta.Index)
            pr.BecomeReplicate();
        if (MaybeCommit()) BroadcastAppend(sendIfEmpty: false);
        SendAppend(m.From, sendIfEmpty: true);
        while (SendAppend(m.From, sendIfEmpty: false)) { }
        AfterLeaderProgress(m.From);
    }

    private void HandleAppendResponse(AppendEntriesResponse m)
    {
        if (!_progress.TryGetValue(m.From, out var pr)) return;
        pr.RecentActive = true;
        if (!m.Success)
        {
            if (m.RejectedIndex == 0) return; // a refusal that only carried a newer term
            var hintNext = m.ConflictTerm == 0
                ? m.ConflictIndex
                : (_log.LastIndexOfTerm(m.ConflictTerm, m.RejectedIndex) is { } last ? last + 1 : m.ConflictIndex);
            if (pr.MaybeDecrease(m.RejectedIndex, hintNext)) SendAppend(m.From, sendIfEmpty: true);
            return;
        }
        var wasProbe = pr.State == ProgressState.Probe;
        if (!pr.MaybeUpdate(m.MatchIndex))
        {
            if (wasProbe && !pr.ProbeSent) SendAppend(m.From, sendIfEmpty: false);
            return;
        }
        if (wasProbe || pr.State == ProgressState.Snapshot && pr.Match >= pr.PendingSnapshot!.Meta.Index) pr.BecomeReplicate();
        // A new commit index reaches followers with the next append or heartbeat.
        if (MaybeCommit()) BroadcastAppend(sendIfEmpty: false);
        while (SendAppend(m.From, sendIfEmpty: false)) { }
        AfterLeaderProgress(m.From);
    }

    /// <summary>What a leader does after a follower's match or its own commit index moved.</summary>
    private void AfterLeaderProgress(NodeId? peer = null)
    {
        if (Role != RaftRole.Leader) return;
        if (peer is { } p && TransferTarget == p && !_timeoutNowSent && _progress[p].Match == _log.LastIndex) SendTimeoutNow(p);
        MaybePromoteLearner();
        MaybeStepDownRemoved();
    }

    private void SendTimeoutNow(NodeId target)
    {
        _timeoutNowSent = true;
        _timeoutNowSentThisTerm = true;
        SendBeforePersist(new TimeoutNow(Id, target, Term));
    }

    /// <summary>
    /// Dissertation 4.2.1: a learner whose log has caught up with the leader's commit index becomes a voter, one change
    /// at a time; under load it may trail the commit index, so it is retried on every heartbeat and append answer.
    /// </summary>
    private void MaybePromoteLearner()
    {
        if (!_config.AutoPromoteLearners || Role != RaftRole.Leader || TransferTarget is not null
            || _lastConfIndex > CommitIndex || !CommittedInCurrentTerm) return;
        foreach (var learner in _membership.Learners)
            if (_progress.TryGetValue(learner, out var pr) && pr.Match >= CommitIndex)
            {
                ProposeConfChange(new ConfChange(ConfChangeType.PromoteLearner, learner));
                return;
            }
    }

    /// <summary>
    /// Dissertation 4.2.2: a leader removed from the membership manages the cluster until the change commits (without
    /// counting itself), then tells the followers the commit, hands over to the most caught-up voter and steps down.
    /// </summary>
    private void MaybeStepDownRemoved()
    {
        if (Role != RaftRole.Leader || IsVoter || _lastConfIndex > CommitIndex) return;
        BroadcastHeartbeat();
        if (MostCaughtUpVoter() is { } next && _progress[next].Match == _log.LastIndex) SendTimeoutNow(next);
        BecomeFollower(Term, null);
    }

    private void HandleHeartbeatResponse(HeartbeatResponse m)
    {
        if (!_progress.TryGetValue(m.From, out var pr)) return;
        pr.RecentActive = true;
        pr.OnHeartbeatResponse();
        if (m.Round > pr.AckedRound) pr.AckedRound = m.Round;
        if (pr.Match < _log.LastIndex) SendAppend(m.From, sendIfEmpty: true);
        ReleaseConfirmedReads();
        AfterLeaderProgress(m.From);
    }

    /// <summary>Section 5.4.2 (Figure 8): only an entry of the current term is committed by counting replicas.</summary>
    private bool MaybeCommit()
    {
        var index = _quorum!.CommittedIndex(n => n == Id ? _log.StableIndex : _progress[n].Match);
        if (index <= CommitIndex || _log.TermAt(index) != Term) return false;
        CommitIndex = index;
        StartDeferredReads();
        return true;
    }

    private bool CommittedInCurrentTerm => _log.TermAt(CommitIndex) == Term;

    // ---------------------------------------------------------------- proposals

    private ProposeResult HandlePropose(Propose m)
    {
        if (Role == RaftRole.Leader)
        {
            var reason = m.Data.Length > _config.EntryBytesMax ? $"entry larger than {_config.EntryBytesMax} bytes"
                : _log.LastIndex - CommitIndex >= _config.UncommittedEntriesMax ? "too many uncommitted entries"
                : TransferTarget is not null ? "a leadership transfer is under way" // dissertation 3.10
                : null;
            if (reason is not null) return new ProposeResult(ProposeStatus.Dropped, 0, 0, LeaderId, reason);
            var entry = new LogEntry(_log.LastIndex + 1, Term, EntryType.Normal, m.Data);
            _log.Append(entry);
            _appendPending = true; // every proposal until the next Ready shares one AppendEntries per follower

            return new ProposeResult(ProposeStatus.Appended, entry.Index, entry.Term, Id);
        }
        if (LeaderId is { } leader && _config.ProposalForwarding && m.From == Id && m.Data.Length <= _config.EntryBytesMax)
        {
            Send(new Propose(Id, leader, m.Data));
            return new ProposeResult(ProposeStatus.Forwarded, 0, 0, leader);
        }
        var why = LeaderId is null ? "no known leader"
            : !_config.ProposalForwarding ? "not the leader and proposal forwarding is off"
            : m.Data.Length > _config.EntryBytesMax ? $"entry larger than {_config.EntryBytesMax} bytes"
            : "not the leader";
        return new ProposeResult(ProposeStatus.Dropped, 0, 0, LeaderId, why);
    }

    // ---------------------------------------------------------------- reads (dissertation 6.4)

    private int ReadsPending => _readsAtLeader.Count + _readsForwarded.Count + _readsAwaitingApply.Count;

    private void HandleReadIndex(ReadIndexRequest m)
    {
        var local = m.From == Id;
        if (ReadsPending >= _config.ReadsPendingMax)
        {
            if (local) _readsDropped.Add(m.RequestId);
            return;
        }
        if (Role != RaftRole.Leader)
        {
            if (local && LeaderId is { } leader)
            {
                _readsForwarded.Add(m.RequestId);
                Send(new ReadIndexRequest(Id, leader, m.RequestId, m.Mode));
            }
            else if (local) _readsDropped.Add(m.RequestId);
            return;
        }
        if (!CommittedInCurrentTerm)
        {
            // The commit index is not known to be current until the leader commits an entry of its term.
            _readsAtLeader.Add(new PendingRead(m.RequestId, m.From, 0, 0));
            return;
        }
        if (SoleVoter || (m.Mode == ReadMode.Lease && LeaseValid()))
        {
            ReleaseRead(m.RequestId, m.From, CommitIndex);
            return;
        }
        // Every read until the next Ready shares one heartbeat round.
        _readRoundPending = true;
        _readsAtLeader.Add(new PendingRead(m.RequestId, m.From, CommitIndex, _round + 1));
    }

    private void StartDeferredReads()
    {
        if (_readsAtLeader.Count == 0 || _readsAtLeader[0].Round != 0 || !CommittedInCurrentTerm) return;
        if (SoleVoter)
        {
            foreach (var r in _readsAtLeader) ReleaseRead(r.RequestId, r.From, CommitIndex);
            _readsAtLeader.Clear();
            return;
        }
        var round = BroadcastHeartbeat();
        for (var i = 0; i < _readsAtLeader.Count; i++)
            if (_readsAtLeader[i].Round == 0) _readsAtLeader[i] = _readsAtLeader[i] with { Index = CommitIndex, Round = round };
    }

    private long QuorumAckedRound() => _quorum!.CommittedIndex(n => n == Id ? _round : _progress[n].AckedRound);

    private void ReleaseConfirmedReads()
    {
        var acked = QuorumAckedRound();
        var released = 0;
        while (released < _readsAtLeader.Count && _readsAtLeader[released].Round != 0 && _readsAtLeader[released].Round <= acked)
        {
            var r = _readsAtLeader[released++];
            ReleaseRead(r.RequestId, r.From, r.Index);
        }
        _readsAtLeader.RemoveRange(0, released);
        // Rounds older than every follower's acknowledgement can no longer decide a lease.
        var oldest = _progress.Count == 0 ? _round : _progress.Values.Min(p => p.AckedRound);
        while (_roundSentTick.Count > 0 && (_roundSentTick.First().Key < Math.Min(oldest, acked) || _roundSentTick.Count > RoundsRememberedMax))
            _roundSentTick.Remove(_roundSentTick.First().Key);
    }

    private void ReleaseRead(long requestId, NodeId from, long index)
    {
        if (from == Id) _readsAwaitingApply.Add(new ReadState(requestId, index));
        else Send(new ReadIndexResponse(Id, from, Term, requestId, index));
    }

    private void HandleReadIndexResponse(ReadIndexResponse m)
    {
        if (Role != RaftRole.Follower || m.From != LeaderId) return;
        if (_readsForwarded.Remove(m.RequestId)) _readsAwaitingApply.Add(new ReadState(m.RequestId, m.Index));
    }

    /// <summary>
    /// Lease (dissertation 6.4.1): a majority answered a heartbeat sent at tick T, and each of those followers ignores
    /// vote requests until it has counted ElectionTicks since receiving it, so no other leader can exist before
    /// T + ElectionTicks, less the configured drift.
    /// </summary>
    private bool LeaseValid()
    {
        // A transferring leader may already have told its target to take over: no lease (dissertation 3.10).
        if (!_config.CheckQuorum || Role != RaftRole.Leader || TransferTarget is not null || _timeoutNowSentThisTerm) return false;
        if (SoleVoter) return true;
        var acked = QuorumAckedRound();
        return acked > 0 && _roundSentTick.TryGetValue(acked, out var sentTick)
            && _ticksTotal < sentTick + _config.ElectionTicks - _config.LeaseClockDriftTicks;
    }

    /// <summary>
    /// A heartbeat of the current round to one follower, carrying the commit. Its answer counts for that round only,
    /// which it proves at a later time than the round's broadcast: safe for ReadIndex, conservative for the lease.
    /// </summary>
    private void SendCommitNotice(NodeId peer, Progress pr)
    {
        var commit = Math.Min(pr.Match, CommitIndex);
        SendBeforePersist(new Heartbeat(Id, peer, Term, commit, _round));
        pr.CommitSent = commit;
    }

    private long BroadcastHeartbeat()
    {
        var round = ++_round;
        _roundSentTick[round] = _ticksTotal;
        foreach (var (peer, pr) in _progress)
        {
            var commit = Math.Min(pr.Match, CommitIndex);
            SendBeforePersist(new Heartbeat(Id, peer, Term, commit, round));
            pr.CommitSent = Math.Max(pr.CommitSent, commit);
        }
        return round;
    }

    private void DropLeaderReads()
    {
        foreach (var r in _readsAtLeader.Where(r => r.From == Id)) _readsDropped.Add(r.RequestId);
        _readsAtLeader.Clear();
    }

    private void DropForwardedReads()
    {
        _readsDropped.AddRange(_readsForwarded);
        _readsForwarded.Clear();
    }

    // ---------------------------------------------------------------- output

    private void Send(RaftMessage m) => _messages.Add(m);

    /// <summary>Leader traffic that promises nothing about this node's disk may leave before the Ready is persisted.</summary>
    private void SendBeforePersist(RaftMessage m) => _messagesBeforePersist.Add(m);

    public override string ToString() => $"raft {Id} {Role} t{Term} lead={LeaderId?.ToString() ?? "-"} commit={CommitIndex} last={_log.LastIndex}";
}

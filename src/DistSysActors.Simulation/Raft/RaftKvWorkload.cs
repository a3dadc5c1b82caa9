using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Simulation.Raft;

public enum KvOpKind { Put, Get, Delete, Cas }

/// <summary>
/// One client operation as the client saw it: called at <see cref="CallMs"/>, answered at <see cref="ReturnMs"/>
/// (null when no answer came before the run ended: the outcome is unknown). For Get, Output is the value read;
/// for Cas, Swapped says whether it applied and Output is the current value on a mismatch.
/// </summary>
public sealed record KvHistoryOp(
    long ClientId, long Sequence, KvOpKind Kind, string Key, string? Value, string? Expected,
    long CallMs, long? ReturnMs, KvStatus? Status, string? Output);

/// <summary>
/// A simulated replicated key-value cluster the workload drives (Raft's, Multi-Paxos'): it takes
/// <see cref="RaftClientCommand"/> and <see cref="RaftClientRead"/> on a node and answers through <see cref="ReplyListener"/>.
/// </summary>
public interface IKvSimCluster
{
    long Seed { get; }
    long NowMs { get; }
    IReadOnlyList<NodeId> NodeIds { get; }
    /// <summary>Whether the node is up and can take a request.</summary>
    bool IsServing(NodeId id);
    /// <summary>Hands a client request to a node (lost when the node is down by then).</summary>
    void Submit(NodeId node, object request);
    void Schedule(long atMs, Action action, string label);
    DeterministicRandom ForkRandom();
    long NextRequestId();
    long NextNonce();
    Action<RaftClientReply>? ReplyListener { get; set; }
}

/// <summary>
/// Closed-loop key-value clients on an <see cref="IKvSimCluster"/> (<see cref="RaftSimCluster"/> and the Multi-Paxos one): each registers a session through the log first
/// (resending the registration until answered; a duplicate only registers an unused client), then has one request
/// in flight, sends it to its leader hint (or a random live node), and retries with the same sequence number on
/// timeout or rejection, so the session makes every retry safe. Records the history for the checkers.
/// </summary>
public sealed class RaftKvWorkload
{
    public const int ClientsMax = 64;

    private readonly IKvSimCluster _cluster;
    private readonly DeterministicRandom _random;
    private readonly ClientState[] _clients;
    private readonly Dictionary<long, ClientState> _byRequest = [];
    private readonly string[] _keys;
    private long _valueCounter;

    /// <param name="staleReads">Serve reads from the receiving node's state machine without any check (not linearizable; for contrast).</param>
    public RaftKvWorkload(IKvSimCluster cluster, int clients, int keys, bool readsAndCas, long timeoutMs = 300,
        ReadMode readMode = ReadMode.ReadIndex, bool staleReads = false)
    {
        if (clients < 1 || clients > ClientsMax) throw new ArgumentOutOfRangeException(nameof(clients));
        _cluster = cluster;
        _random = cluster.ForkRandom();
        _keys = Enumerable.Range(0, Math.Max(1, keys)).Select(i => $"k{i}").ToArray();
        ReadsAndCas = readsAndCas;
        TimeoutMs = timeoutMs;
        ReadMode = readMode;
        StaleReads = staleReads;
        _clients = Enumerable.Range(0, clients).Select(_ => new ClientState(cluster.NextNonce())).ToArray();
        var previous = cluster.ReplyListener;
        cluster.ReplyListener = reply => { previous?.Invoke(reply); OnReply(reply); };
    }

    public bool ReadsAndCas { get; }
    public long TimeoutMs { get; }
    public ReadMode ReadMode { get; }
    public bool StaleReads { get; }
    public bool Running { get; private set; }

    /// <summary>Completed operations, plus (after <see cref="Stop"/>) the ones still in flight with unknown outcome.</summary>
    public List<KvHistoryOp> History { get; } = [];

    public int Completed => History.Count(o => o.ReturnMs is not null);

    public void Start()
    {
        Running = true;
        foreach (var c in _clients)
        {
            if (c.ClientId == 0) Send(c); // registers first
            else NextOperation(c);
        }
    }

    /// <summary>Stops issuing operations; operations still waiting are recorded with an unknown outcome.</summary>
    public void Stop()
    {
        Running = false;
        foreach (var c in _clients)
        {
            if (c.Op is { } op) History.Add(op);
            c.Op = null;
        }
    }

    private void NextOperation(ClientState c)
    {
        if (!Running) return;
        var key = _keys[_random.NextInt(0, _keys.Length)];
        var value = $"v{++_valueCounter}";
        var kind = !ReadsAndCas ? KvOpKind.Put : _random.NextInt(0, 10) switch
        {
            < 4 => KvOpKind.Get,
            < 7 => KvOpKind.Put,
            < 9 => KvOpKind.Cas,
            _ => KvOpKind.Delete,
        };
        string? expected = null;
        if (kind == KvOpKind.Get)
        {
            c.Op = new KvHistoryOp(c.ClientId, 0, kind, key, null, null, _cluster.NowMs, null, null, null);
        }
        else
        {
            c.Sequence++;
            if (kind == KvOpKind.Cas && !_random.Chance(0.3)) expected = $"v{Math.Max(1, _valueCounter - _random.NextInt(1, 4))}";
            c.Op = new KvHistoryOp(c.ClientId, c.Sequence, kind, key, kind is KvOpKind.Delete ? null : value, expected, _cluster.NowMs, null, null, null);
        }
        Send(c);
    }

    private void Send(ClientState c)
    {
        var op = c.Op;
        var requestId = _cluster.NextRequestId();
        _byRequest.Remove(c.RequestId);
        c.RequestId = requestId;
        _byRequest[requestId] = c;
        var target = c.LeaderHint is { } hint && _cluster.IsServing(hint) ? hint : RandomLiveNode();
        c.LeaderHint = null;
        object request = op is null ? new RaftClientCommand(requestId, new KvRegister(c.Nonce)) : op.Kind switch
        {
            KvOpKind.Get => new RaftClientRead(requestId, op.Key, ReadMode, StaleReads),
            KvOpKind.Put => new RaftClientCommand(requestId, new KvPut(op.ClientId, op.Sequence, op.Key, op.Value!)),
            KvOpKind.Delete => new RaftClientCommand(requestId, new KvDelete(op.ClientId, op.Sequence, op.Key)),
            _ => new RaftClientCommand(requestId, new KvCas(op.ClientId, op.Sequence, op.Key, op.Expected, op.Value!)),
        };
        if (target is { } node) _cluster.Submit(node, request);
        _cluster.Schedule(_cluster.NowMs + TimeoutMs, () =>
        {
            if (c.RequestId == requestId && c.Waiting && Running) Send(c);
        }, $"client {c.Name} timeout");
    }

    private NodeId? RandomLiveNode()
    {
        var live = _cluster.NodeIds.Where(_cluster.IsServing).ToArray();
        return live.Length == 0 ? null : live[_random.NextInt(0, live.Length)];
    }

    private void OnReply(RaftClientReply reply)
    {
        if (!_byRequest.TryGetValue(reply.RequestId, out var c) || c.RequestId != reply.RequestId || !c.Waiting) return;
        _byRequest.Remove(reply.RequestId);
        switch (reply)
        {
            case RaftClientRejected rejected:
                c.LeaderHint = rejected.LeaderHint;
                // Retry soon, elsewhere; the session keeps a retried command from applying twice.
                var requestId = c.RequestId;
                _cluster.Schedule(_cluster.NowMs + 10, () =>
                {
                    if (c.RequestId == requestId && c.Waiting && Running) Send(c);
                }, $"client {c.Name} retry");
                break;
            case RaftClientOk registered when c.ClientId == 0:
                if (registered.Result is not { Status: KvStatus.Ok })
                    throw new InvalidOperationException($"seed={_cluster.Seed}: client {c.Name} registration answered {registered.Result}");
                c.ClientId = registered.Index; // the index of the registering entry
                c.LeaderHint = reply.Node;
                NextOperation(c);
                break;
            case RaftClientOk ok:
                var op = c.Op!;
                if (ok.Result is { Status: KvStatus.SessionExpired or KvStatus.StaleSequence or KvStatus.Invalid })
                    throw new InvalidOperationException($"seed={_cluster.Seed}: client {c.ClientId} got {ok.Result.Status} for {op}");
                History.Add(op with
                {
                    ReturnMs = _cluster.NowMs,
                    Status = ok.Result?.Status ?? (ok.Value is null ? KvStatus.NotFound : KvStatus.Ok),
                    Output = op.Kind == KvOpKind.Get ? ok.Value : ok.Result?.Value,
                });
                c.Op = null;
                c.LeaderHint = reply.Node;
                NextOperation(c);
                break;
        }
    }

    private sealed class ClientState(long nonce)
    {
        public long Nonce { get; } = nonce;
        /// <summary>0 until its registration is answered, then the index of the registering entry.</summary>
        public long ClientId { get; set; }
        /// <summary>Waiting for an answer: to its registration, or to its operation.</summary>
        public bool Waiting => ClientId == 0 || Op is not null;
        public string Name => ClientId == 0 ? $"(registering {Nonce})" : $"{ClientId}";
        public long Sequence { get; set; }
        public long RequestId { get; set; }
        public KvHistoryOp? Op { get; set; }
        public NodeId? LeaderHint { get; set; }
    }
}

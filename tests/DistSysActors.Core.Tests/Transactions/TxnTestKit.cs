using DistSysActors.Core.Tests.Paxos;
using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Tests.Transactions;

/// <summary>Three transaction nodes on the in-memory test network, and keys known to live on a given node.</summary>
internal sealed class TxnTestKit
{
    public static readonly NodeId[] Ids = [new(1), new(2), new(3)];
    public static readonly TxnConfig Config = new() { VoteTimeoutMs = 2_000, RetryMs = 100, DecisionTimeoutMs = 500, PreCommitTimeoutMs = 500, LockTimeoutMs = 300, TerminationPollMs = 100 };

    public TxnTestKit(TxnConfig? config = null) => Net = new PaxosTestNet<TxnNode, TxnMessage>(Ids, (id, journal) => new TxnNode(id, Ids, config ?? Config, journal));

    public PaxosTestNet<TxnNode, TxnMessage> Net { get; }

    public HashSet<NodeId> Down { get; } = [];

    public long NowMs { get; private set; }

    /// <summary>A key owned by node <paramref name="node"/> (classic mode's hash partitioning).</summary>
    public static string KeyOn(int node, string prefix = "k")
    {
        var partitioner = new TxnPartitioner(Ids);
        for (var i = 0; ; i++)
            if (partitioner.OwnerOf($"{prefix}{i}") == new NodeId(node)) return $"{prefix}{i}";
    }

    public TxnId Begin(int coordinator, TxnProtocol protocol, params TxnOp[] ops)
    {
        var id = Net[coordinator].Coordinator.Begin(++_request, protocol, ops, NowMs);
        Net.Flush();
        return id;
    }

    private long _request;

    /// <summary>Delivers everything not to or from a down node, except what <paramref name="drop"/> drops.</summary>
    public void Deliver(Func<NodeId, NodeId, TxnMessage, bool>? drop = null) =>
        Net.Deliver((from, to, m) => !Down.Contains(to) && !Down.Contains(from) && !(drop?.Invoke(from, to, m) ?? false), NowMs);

    /// <summary>Advances time by <paramref name="ms"/> in ticks of 50 ms, delivering after each.</summary>
    public void Run(long ms, Func<NodeId, NodeId, TxnMessage, bool>? drop = null)
    {
        for (var end = NowMs + ms; NowMs < end;)
        {
            NowMs += 50;
            foreach (var id in Ids.Where(i => !Down.Contains(i))) Net[id].Tick(NowMs);
            Deliver(drop);
        }
    }

    public void Crash(int node)
    {
        Down.Add(new NodeId(node));
        Net.InFlight.RemoveAll(m => m.To == new NodeId(node));
    }

    public TxnNode Restart(int node)
    {
        Down.Remove(new NodeId(node));
        return Net.Restart(new NodeId(node));
    }

    public TxnAnswer? AnswerOf(TxnId id) => Net.Answers.Select(a => a.Answer).OfType<TxnAnswer>().LastOrDefault(a => a.Id == id);

    public string? Value(string key) => Net[new TxnPartitioner(Ids).OwnerOf(key)].Participant.Read(key);
}

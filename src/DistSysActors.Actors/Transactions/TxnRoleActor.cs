using System.Collections.Immutable;
using Akka.Actor;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Actors.Transactions;

/// <summary>
/// One transaction role on this node, its own durable actor around a <see cref="TxnRoleCore"/>: the coordinator
/// (journals BEGIN, decisions and END, each before the message that depends on it leaves) or the participant (journals
/// PREPARED with its staged writes before its YES vote, its outcomes, its saga steps). A message goes to the role it is
/// for (<see cref="Txn.RoleOf"/>) on the receiving node, registered as txn/{role}.
/// </summary>
public sealed class TxnRoleActor : DurableProtocolHostActor<TxnMessage, ProtocolReady<TxnMessage>>
{
    public const int RequestsWaitingMax = 10_000;

    private readonly NodeId _self;
    private readonly ImmutableArray<NodeId> _nodes;
    private readonly TxnSettings _settings;
    private readonly Role _role;
    private readonly List<object> _recovered = [];
    private readonly WaitingClients<NoTag> _waiting;
    private TxnRoleCore? _core;

    private sealed record RequestExpired(long RequestId, TxnId Id);

    public TxnRoleActor(Role role, NodeId self, IReadOnlyCollection<NodeId> nodes, TxnSettings settings, IActorRef network)
        : base(self, new ProtocolHostSettings(Service, RoleName(role), TimeSpan.FromMilliseconds(settings.TickMs)), network, clockMs: null,
            snapshotEveryEvents: settings.SnapshotEveryEvents)
    {
        _role = role;
        _self = self;
        _nodes = [.. nodes.Append(self).Distinct().Order()];
        _settings = settings;
        PersistenceId = $"txn-{RoleName(role)}-node-{self}";
        _waiting = new WaitingClients<NoTag>("requests waiting", RequestsWaitingMax, () => Timers);

        Command<TxnMessage>(StepCore);
        Command<TxnLocal.Submit>(OnSubmit);
        Command<RequestExpired>(e =>
        {
            if (_waiting.TryRemove(e.RequestId, out var asker)) asker.Tell(new TxnAnswer(e.RequestId, e.Id, TxnState.Unknown, "the outcome is not known yet"));
        });
        Command<TxnLocal.GetView>(q => Sender.Tell(new TxnLocal.View(_core!.Coordinator?.Describe(q.Id))));
        Command<TxnLocal.ReadKey>(q => Sender.Tell(new TxnLocal.KeyValue(q.Key, _core!.Participant?.Read(q.Key))));
        Command<TxnLocal.GetStatus>(_ => Sender.Tell(new TxnLocal.RoleStatus(
            [.. _core!.Participant?.InDoubtTransactions(NowMs) ?? []], _core.Participant?.Locks.Count ?? 0, _core.Coordinator?.RunningCount ?? 0)));
    }

    public static string RoleName(Role role) => role.ToString().ToLowerInvariant();

    /// <summary>The network service of a role: txn/{role}.</summary>
    public static string ServiceOf(Role role) => $"{Service}/{RoleName(role)}";

    public static Props Props(Role role, NodeId self, IReadOnlyCollection<NodeId> nodes, TxnSettings settings, IActorRef network) =>
        Akka.Actor.Props.Create(() => new TxnRoleActor(role, self, nodes, settings, network));

    public override string PersistenceId { get; }

    protected override IProtocolCore<TxnMessage, ProtocolReady<TxnMessage>> Core => _core!;

    private void OnSubmit(TxnLocal.Submit request)
    {
        if (_core!.Coordinator is not { } coordinator) { Sender.Tell(new TxnLocal.Refused("the participant does not coordinate", 400)); return; }
        if (TxnOps.Validate(request.Ops) is { } error) { Sender.Tell(new TxnLocal.Refused(error, 400)); return; }
        if (_waiting.Overloaded is { } overloaded) { Sender.Tell(new TxnLocal.Refused(overloaded, 503)); return; }
        var requestId = _waiting.NextId();
        switch (coordinator.Begin(requestId, request.Protocol, request.Ops, NowMs, request.IdempotencyKey, request.Fingerprint))
        {
            case KeyConflict c: Sender.Tell(new TxnLocal.Refused(c.Reason, 422)); return;
            case Started s: Wait(requestId, s.Id, request.TimeoutMs); break;
            case FoundByKey f: Wait(requestId, f.Id, request.TimeoutMs); break;
        }
        Flush();
    }

    private void Wait(long requestId, TxnId id, long timeoutMs) =>
        _waiting.Add(requestId, Sender, default, TimeSpan.FromMilliseconds(timeoutMs), new RequestExpired(requestId, id));

    public override void Send(Outgoing<TxnMessage> outgoing) => Host.Send(outgoing.To, ServiceOf(RoleOf(outgoing.Message)), outgoing.Message);

    public override void Answer(object answer)
    {
        if (answer is TxnAnswer a && _waiting.TryRemove(a.RequestId, out var asker)) asker.Tell(a);
    }

    protected override void RestoreSnapshot(object snapshot)
    {
        _recovered.Clear();
        _recovered.Add(snapshot);
    }

    protected override void Replay(object journalEvent) => _recovered.Add(journalEvent);

    protected override object SnapshotState() => _core!.Snapshot();

    protected override void OnRecovered()
    {
        _core = new TxnRoleCore(_role, _self, _nodes, _settings.Config, _recovered);
        _recovered.Clear();
    }
}

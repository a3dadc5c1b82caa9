using System.Text;
using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Paxos;
using DistSysActors.Core.Protocol;
using static DistSysActors.Core.Paxos.RegisterPaxos;

namespace DistSysActors.Actors.Paxos;

/// <summary>
/// One role of Basic Paxos on this node (proposer, acceptor or learner), each its own durable actor around a
/// <see cref="RegisterRoleCore"/>: the acceptor journals its promises and acceptances, the learner the values it
/// learned, the proposer the rounds it used, each before the message that depends on it leaves. A message goes to the
/// role it is for (<see cref="RegisterPaxos.RoleOf"/>) on the receiving node, registered as paxos-register/{role}.
/// </summary>
public sealed class RegisterRoleActor : DurableProtocolHostActor<RegisterMessage, ProtocolReady<RegisterMessage>>
{
    public const int RequestsWaitingMax = 10_000;

    private readonly NodeId _self;
    private readonly IReadOnlyList<NodeId> _nodes;
    private readonly PaxosSettings _settings;
    private readonly Role _role;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<object> _recovered = [];
    private readonly WaitingClients<NoTag> _waiting = new("requests waiting", RequestsWaitingMax);
    private RegisterRoleCore? _core;

    public RegisterRoleActor(Role role, NodeId self, IReadOnlyCollection<NodeId> nodes, PaxosSettings settings, IActorRef network)
        : base(self, new ProtocolHostSettings(Service, RoleName(role), TimeSpan.FromMilliseconds(settings.TickMs)), network, clockMs: null, snapshotEveryEvents: 1_000)
    {
        _role = role;
        _self = self;
        _nodes = [.. nodes.Append(self).Distinct().Order()];
        _settings = settings;
        PersistenceId = $"paxos-{RoleName(role)}-node-{self}";

        Command<RegisterMessage>(StepCore);
        Command<PaxosProtocol.ProposeRegister>(OnPropose);
        Command<PaxosProtocol.GetRegister>(q => Sender.Tell(new PaxosProtocol.RegisterKnown(q.Name, _core!.Learner?.ChosenOf(q.Name))));
    }

    public static string RoleName(Role role) => role.ToString().ToLowerInvariant();

    /// <summary>The network service of a role: paxos-register/{role}.</summary>
    public static string ServiceOf(Role role) => $"{Service}/{RoleName(role)}";

    public static Props Props(Role role, NodeId self, IReadOnlyCollection<NodeId> nodes, PaxosSettings settings, IActorRef network) =>
        Akka.Actor.Props.Create(() => new RegisterRoleActor(role, self, nodes, settings, network));

    public override string PersistenceId { get; }

    protected override IProtocolCore<RegisterMessage, ProtocolReady<RegisterMessage>> Core => _core!;

    /// <summary>A register name or value the core may take: non-empty, within its byte limit; null when acceptable.</summary>
    public static string? Invalid(string name, string? value)
    {
        if (string.IsNullOrEmpty(name)) return "a register name must not be empty";
        if (Encoding.UTF8.GetByteCount(name) > NameBytesMax) return $"a register name must be at most {NameBytesMax} bytes";
        if (value is not null && Encoding.UTF8.GetByteCount(value) > ValueBytesMax) return $"a register value must be at most {ValueBytesMax} bytes";
        return null;
    }

    private void OnPropose(PaxosProtocol.ProposeRegister request)
    {
        if (_core!.Proposer is not { } proposer) { Sender.Tell(new PaxosProtocol.RegisterRefused($"the {RoleName(_role)} does not propose")); return; }
        if (Invalid(request.Name, request.Value) is { } error) { Sender.Tell(new PaxosProtocol.RegisterRefused(error)); return; }
        if (_waiting.Overloaded is { } overloaded) { Sender.Tell(new PaxosProtocol.RegisterRefused(overloaded)); return; }
        var id = _waiting.NextId();
        _waiting.Add(id, Sender, default);
        proposer.Start(id, request.Name, request.Value, NowMs);
        Flush();
    }

    public override void Send(Outgoing<RegisterMessage> outgoing) => Host.Send(outgoing.To, ServiceOf(RoleOf(outgoing.Message)), outgoing.Message);

    public override void Answer(object answer)
    {
        switch (answer)
        {
            case Outcome o when _waiting.TryRemove(o.RequestId, out var asker): asker.Tell(o); break;
            case NotDecided f when _waiting.TryRemove(f.RequestId, out var asker): asker.Tell(f); break;
            case PhaseEvent p: _log.Info("paxos register {0}: {1} {2}: {3}", p.Name, p.Node, p.Ballot, p.Text); break;
            case Learned l: _log.Info("paxos register {0}: learned '{1}' chosen at {2}", l.Name, l.Value, l.Ballot); break;
        }
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
        _core = new RegisterRoleCore(_role, _self, _nodes, new DeterministicRandom(_settings.SeedFor(_self) ^ (long)_role), _recovered, _settings.ProposerOptions);
        _recovered.Clear();
    }
}

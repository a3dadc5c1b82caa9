using Akka.Actor;
using Akka.Configuration;
using Akka.Pattern;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Election;
using DistSysActors.Actors.FailureDetection;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Paxos;
using DistSysActors.Core.Paxos;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Ping;
using DistSysActors.Actors.Raft;
using DistSysActors.Actors.ReliableDelivery;

namespace DistSysActors.Actors.Modules;

/// <summary>The network component every protocol message passes through, applying the node's fault spec.</summary>
public sealed class NetworkModule : DistSysModule
{
    public override string Name => NetworkActor.Name;
    public override Type RegistryKey => typeof(DistSysNetworkKey);

    public override Props CreateProps(DistSysModuleContext c) =>
        NetworkActor.Props(c.Self, NetworkSettings.Create(c.Config), c.Peers, c.InitialFaults, c.Clock, c.Resolve, c.Addressing);
}

/// <summary>The journal of this node's starts (its incarnation number in <c>/status</c>).</summary>
public sealed class IncarnationModule : DistSysModule
{
    public override string Name => "incarnation";
    public override Type RegistryKey => typeof(DistSysIncarnationKey);
    public override Props CreateProps(DistSysModuleContext c) => IncarnationActor.Props(c.Node.Id);
}

/// <summary>Ping/pong between every pair of nodes: round trips, and a visible effect of network faults.</summary>
public sealed class PingModule : DistSysModule
{
    public override string Name => "ping";
    public override Type RegistryKey => typeof(DistSysPingKey);

    public override Props CreateProps(DistSysModuleContext c) =>
        PingActor.Props(c.Self, c.Peers.Keys.ToArray(), c.Network, TimeSpan.FromMilliseconds(PingSettings.Create(c.Config).IntervalMs));
}

/// <summary>The Raft replicated key-value store (<c>distsys.raft</c>).</summary>
public sealed class RaftModule : DistSysModule
{
    public override string Name => "raft";
    public override Type RegistryKey => typeof(DistSysRaftKey);
    public override bool IsEnabled(Config config) => RaftSettings.Create(config).Enabled && !KvConsensusSettings.Create(config).IsPaxos;

    public override Props CreateProps(DistSysModuleContext c) =>
        // Supervised with backoff: if the replica stops (e.g. its journal is unavailable), it is started again and recovers.
        BackoffSupervisor.Props(Backoff.OnStop(
            // A joining server starts with no voters: it never campaigns until a leader has added it (RaftConfig.Voters).
            RaftActor.Props(c.Self, c.Node.Join ? [] : c.Peers.Keys.ToArray(), RaftSettings.Create(c.Config), c.Network,
                TimeSpan.FromMilliseconds(c.Host.RequestTimeoutMs)),
            "replica", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, maxNrOfRetries: -1));
}

/// <summary>The heartbeat failure detector (phi accrual or fixed timeout, <c>distsys.failure-detector</c>).</summary>
public sealed class FailureDetectorModule : DistSysModule
{
    public override string Name => "heartbeat";
    public override Type RegistryKey => typeof(DistSysFailureDetectorKey);
    public override bool IsEnabled(Config config) => FailureDetectionSettings.Create(config).Enabled;

    public override Props CreateProps(DistSysModuleContext c) =>
        HeartbeatActor.Props(c.Self, c.Peers.Keys.ToArray(), FailureDetectionSettings.Create(c.Config), c.Network, awaitMemberUp: c.ClusterProvider);
}

/// <summary>The clock service (NTP-style or Berkeley synchronization, <c>distsys.clock</c>) over the node's shared clock.</summary>
public sealed class ClockModule : DistSysModule
{
    public override string Name => "clock";
    public override Type RegistryKey => typeof(DistSysClockKey);
    public override bool IsEnabled(Config config) => ClockSettings.Create(config).Enabled;

    public override Props CreateProps(DistSysModuleContext c) =>
        ClockActor.Props(c.Self, c.Peers.Keys.ToArray(), ClockSettings.Create(c.Config), c.Network,
            c.Clock ?? throw new InvalidOperationException("the clock module needs the node clock (distsys.clock.enabled = on)"));
}

/// <summary>The key-value store on Multi-Paxos (<c>distsys.kv.consensus = paxos</c>, <c>distsys.paxos</c>), instead of Raft.</summary>
public sealed class MultiPaxosModule : DistSysModule
{
    public override string Name => "paxos";
    public override Type RegistryKey => typeof(DistSysMultiPaxosKey);
    public override bool IsEnabled(Config config) => KvConsensusSettings.Create(config).IsPaxos;

    public override Props CreateProps(DistSysModuleContext c) =>
        // Supervised with backoff like the Raft replica: if it stops (e.g. its journal is unavailable), it starts again and recovers.
        BackoffSupervisor.Props(Backoff.OnStop(
            MultiPaxosActor.Props(c.Self, c.Peers.Keys.ToArray(), PaxosSettings.Create(c.Config), KvSettings.Create(c.Config), c.Network,
                TimeSpan.FromMilliseconds(c.Host.RequestTimeoutMs)),
            "replica", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, maxNrOfRetries: -1));
}

/// <summary>One role of the Basic Paxos registers (<c>/paxos/{name}</c>, <c>distsys.paxos.enabled</c>): its own actor on every node.</summary>
public sealed class RegisterRoleModule(RegisterPaxos.Role role) : DistSysModule
{
    public RegisterPaxos.Role Role { get; } = role;
    public override string Name => $"paxos-{RegisterRoleActor.RoleName(Role)}";
    public override Type RegistryKey => Role switch
    {
        RegisterPaxos.Role.Proposer => typeof(DistSysPaxosProposerKey),
        RegisterPaxos.Role.Acceptor => typeof(DistSysPaxosAcceptorKey),
        _ => typeof(DistSysPaxosLearnerKey),
    };
    public override bool IsEnabled(Config config) => PaxosSettings.Create(config).Enabled;

    public override Props CreateProps(DistSysModuleContext c) =>
        RegisterRoleActor.Props(Role, c.Self, c.Peers.Keys.ToArray(), PaxosSettings.Create(c.Config), c.Network);
}

/// <summary>The modules a node runs, in start order (the network first: the others send through it).</summary>
public static class NodeModules
{
    public static IReadOnlyList<DistSysModule> All { get; } =
    [
        new NetworkModule(), new IncarnationModule(), new PingModule(), new RaftModule(), new MultiPaxosModule(),
        new RegisterRoleModule(RegisterPaxos.Role.Acceptor), new RegisterRoleModule(RegisterPaxos.Role.Learner),
        new RegisterRoleModule(RegisterPaxos.Role.Proposer),
        new FailureDetectorModule(), new ClockModule(), new LoggingModule(),
        new Gossip.SwimModule(), new Gossip.ApStoreModule(),
        .. Transactions.TxnRoleModule.Both,
        new Transactions.Replicated.ReplicatedTxnModule(),
        new BullyModule(), new Election.Singleton.SingletonModule(),
    ];
}

/// <summary>
/// Reliable delivery on one channel (<c>distsys.delivery</c>): the sender (an outbox persisted before the first send,
/// redelivered until acknowledged) and, given a handler, the receiver that applies each message once.
/// </summary>
public sealed class DeliverySenderModule(string channel, Type registryKey) : DistSysModule
{
    public override string Name => $"delivery-{channel}-sender";
    public override Type RegistryKey => registryKey;
    public override Props CreateProps(DistSysModuleContext c) => DeliverySenderActor.Props(c.Self, channel, DeliverySettings.Create(c.Config), c.Network);
}

/// <summary>The receiving end of a reliable-delivery channel: <paramref name="handlerFactory"/> builds the state each message changes once.</summary>
public sealed class DeliveryReceiverModule(string channel, Type registryKey, Func<IDeliveryHandler> handlerFactory) : DistSysModule
{
    public override string Name => $"delivery-{channel}-receiver";
    public override Type RegistryKey => registryKey;
    public override Props CreateProps(DistSysModuleContext c) =>
        DeliveryReceiverActor.Props(c.Self, channel, DeliverySettings.Create(c.Config), c.Network, handlerFactory);
}

using DistSysActors.Core.Paxos;

namespace DistSysActors.Actors.Paxos;

/// <summary>Local queries and answers of the Paxos actors (they never leave the node).</summary>
public static class PaxosProtocol
{
    /// <summary>Asks the Multi-Paxos replica for its <see cref="ReplicaStatus"/>.</summary>
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    public sealed record ReplicaStatus(MultiPaxos.Status Paxos, int PendingWrites, int PendingReads, int Sessions);

    /// <summary>Asks a register proposer to propose <paramref name="Value"/> (null: a read round); answered <see cref="RegisterPaxos.Outcome"/> or <see cref="RegisterPaxos.NotDecided"/>.</summary>
    public sealed record ProposeRegister(string Name, string? Value);

    /// <summary>Asks a register learner what it knows; answered <see cref="RegisterKnown"/>.</summary>
    public sealed record GetRegister(string Name);

    public sealed record RegisterKnown(string Name, RegisterPaxos.ChosenRecord? Chosen);

    /// <summary>A register request was refused before any round (bad input, too many waiting): nothing was done.</summary>
    public sealed record RegisterRefused(string Reason);
}

using Akka.Actor;
using DistSysActors.Actors.Serialization;

namespace DistSysActors.Actors.Election.Singleton;

/// <summary>Binary form of the messages the singleton proxy carries between nodes; bound in the reference configuration.</summary>
public sealed class SingletonSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4186;

    internal static readonly ManifestTable Format = new(Id, nameof(SingletonSerializer), version: 1,
        ManifestEntry.Of<SingletonProtocol.GetInstance>("G", static (_, ref _) => { }, static (ref _) => SingletonProtocol.GetInstance.Default),
        ManifestEntry.Of<SingletonProtocol.Instance>("I",
            static (m, ref w) => { w.Int32(m.NodeId); w.String(m.Incarnation); w.Int64(m.Count); },
            static (ref r) => new SingletonProtocol.Instance(r.Int32(), r.String(), r.Int64())));

    public override int Identifier => Id;
}

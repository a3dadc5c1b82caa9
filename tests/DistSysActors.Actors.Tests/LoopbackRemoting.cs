using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core;

namespace DistSysActors.Actors.Tests;

/// <summary>Several actor systems in one test process, talking over real Akka.Remote on loopback (free ports).</summary>
internal static class LoopbackRemoting
{
    /// <summary>The remote provider on 127.0.0.1 port 0, over the test overlay and the reference config, below <paramref name="overrides"/>.</summary>
    public static Config Config(string overrides = "") => ConfigurationFactory.ParseString(overrides + """

        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        """).WithFallback(DistSysConfig.TestOverlay).WithFallback(DistSysConfig.Reference);

    /// <summary>Node i+1 lives in <paramref name="systems"/>[i]: the peer directory the network components need.</summary>
    public static ImmutableSortedDictionary<NodeId, Address> Peers(params ActorSystem[] systems) =>
        systems.Select((s, i) => KeyValuePair.Create(new NodeId(i + 1), ((ExtendedActorSystem)s).Provider.DefaultAddress))
            .ToImmutableSortedDictionary();
}

using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.LogPipeline;

namespace DistSysActors.Actors.Tests.LogPipeline;

internal static class LogPipelineTestSettings
{
    /// <summary>distsys.logging from the reference configuration, on, with <paramref name="overrides"/> (HOCON) applied.</summary>
    public static LoggingSettings Create(string overrides = "") =>
        LoggingSettings.Create(ConfigurationFactory.ParseString("distsys.logging.enabled = on\n" + overrides).WithFallback(DistSysConfig.Reference));
}

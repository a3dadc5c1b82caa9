using DistSysActors.Node.Hosting;
using DistSysActors.Node.Tests.Processes;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>A node whose data directory says it kept Raft state there, but whose journal is gone, refuses to start, even with no peer to ask.</summary>
public class LostStateCommandLineTests
{
    [Fact]
    public async Task A_data_directory_with_the_state_marker_but_no_journal_refuses_to_start_before_anything_starts()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "distsys-tests", Guid.NewGuid().ToString("N"));
        var nodeDir = Path.Combine(dataDir, "node-1");
        Directory.CreateDirectory(nodeDir);
        await File.WriteAllTextAsync(Path.Combine(nodeDir, NodeHost.StateMarkerFile), "");
        try
        {
            var (basePort, httpBasePort) = (ProcessCluster.FreePortBase(3), ProcessCluster.FreePortBase(3));
            // Nobody listens on the peers' ports: the marker alone decides. A node that started would run until killed.
            var (code, stdout, stderr) = await ProcessCluster.RunCliStreamsAsync(["node", "--id", "1", "--nodes", "3",
                "--base-port", $"{basePort}", "--http-base-port", $"{httpBasePort}", "--data-dir", dataDir], TimeSpan.FromSeconds(60));
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
            Assert.Equal(1, code);
            Assert.Equal($"node 1: refusing to start: its data directory {nodeDir} has {NodeHost.StateMarkerFile}, written when node 1 first kept " +
                         "its Raft state there, but not its journal distsys.db: the journal was lost or removed.", lines[0]);
            var commands = lines.Where(l => l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
            Assert.Equal(3, commands.Count);
            Assert.EndsWith($" members remove 1 --node 2 --http-base-port {httpBasePort}", commands[0]);
            Assert.EndsWith($" node --id 1 --nodes 3 --base-port {basePort} --http-base-port {httpBasePort} --data-dir '{dataDir}' --join", commands[1]);
            Assert.EndsWith($" members add 1 --node 2 --http-base-port {httpBasePort}", commands[2]);
            Assert.DoesNotContain("Remoting", stdout + stderr);
            Assert.False(File.Exists(Path.Combine(nodeDir, "distsys.db")), "no journal was created");
        }
        finally { Directory.Delete(dataDir, recursive: true); }
    }
}

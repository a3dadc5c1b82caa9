using System.CommandLine;
using DistSysActors.Node.Commands;

var root = new RootCommand("distsys: run, watch and break DistSysActors nodes on localhost")
{
    NodeCommand.Create(),
    LocalCommand.Create(),
    StatusCommand.Create(),
    ClockCommand.Create(),
    FaultCommand.Create(),
    KvCliCommand.Create(),
    PaxosCommand.Create(),
    ApCommand.Create(),
    TxnCommand.Create(),
    ElectionCommand.Create(),
    ElectionCommand.CreateBully(),
    ElectionCommand.CreateFenced(),
    MembersCommand.Create(),
    MembersCommand.CreateRaft(),
    ReplicasCommand.Create(),
    LogsCommand.Create(),
    BenchCommand.Create(),
    DistSysActors.Node.Tour.TourCommand.Create(),
};
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (CommandException e)
{
    await Console.Error.WriteLineAsync($"distsys: {e.Message}");
    return 1;
}

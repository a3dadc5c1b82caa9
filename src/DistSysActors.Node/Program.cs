using System.CommandLine;
using DistSysActors.Node.Commands;

var endpoint = CommonOptions.Endpoint();
var root = new RootCommand("distsys: run, watch and break DistSysActors nodes on localhost, or a cluster on other hosts through --endpoint")
{
    endpoint,
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
var parse = root.Parse(args);
try
{
    // Checked before the command runs, so a bad endpoint fails with nothing sent.
    if (parse.Errors.Count == 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        DistSysActors.Node.Client.NodeEndpoints.Current = CommonOptions.EndpointsOf(parse, endpoint);
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (CommandException e)
{
    await Console.Error.WriteLineAsync($"distsys: {e.Message}");
    return 1;
}

using System.CommandLine;
using DistSysActors.Node.Commands.Bank;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys bench bank`: concurrent transfers between accounts (2PC, 3PC or sagas) while random nodes are killed (-9)
/// and restarted; once everything in doubt is resolved it checks that money is conserved, no account went below its
/// min, and every balance equals its start plus the committed transfers. The run itself is in <see cref="BankRun"/>.
/// </summary>
internal static class BenchBankCommand
{
    public sealed record Options(
        int Nodes, int Accounts, int Clients, int Seconds, string Protocol, int KillEverySeconds, long? Seed, int StartBalance, int AmountMax,
        int SettleSeconds, int BasePort, int HttpBasePort, string? DataDir, bool KeepData, IReadOnlyList<string> Sets);

    public static Command Create()
    {
        var nodes = CommonOptions.NodeCount(3);
        var accounts = CommonOptions.Int("--accounts", 20, 2, 100_000, "Number of accounts (keys acct-0 ..), spread over the participants by the key hash");
        var clients = CommonOptions.Int("--clients", 8, 1, 256, "Concurrent closed-loop clients, each sending every transfer to a random node");
        var seconds = CommonOptions.Int("--seconds", 30, 1, 3600, "How long the clients (and the kills) run");
        var protocol = new Option<string>("--protocol") { Description = "2pc, 3pc or saga", DefaultValueFactory = _ => "2pc" };
        protocol.AcceptOnlyFromAmong("2pc", "3pc", "saga");
        var killEvery = CommonOptions.Int("--kill-every", 0, 0, 3600,
            "Every this many seconds kill -9 a random node (coordinator and participant alike) and restart it a second later; 0: no kills");
        var seed = new Option<long?>("--seed") { Description = "Seed of the kill schedule and the clients' choices (default: random, printed)" };
        var balance = CommonOptions.Int("--start-balance", 100, 0, 1_000_000_000, "Every account's balance at the start");
        var amount = CommonOptions.Int("--amount-max", 30, 1, 1_000_000_000, "Largest amount of one transfer (1..this, uniform); a debit below 0 aborts");
        var settle = CommonOptions.Int("--settle-seconds", 120, 1, 3600, "After the load, how long to wait for every in-doubt and running transaction to finish");
        var basePort = CommonOptions.Port("--base-port", 22050, "Akka.Remote port of node I is base-port + I");
        var httpBasePort = CommonOptions.Port("--http-base-port", 23080, "HTTP port of node I is http-base-port + I");
        var dataDir = new Option<string?>("--data-dir") { Description = "Where the nodes keep their data and logs (default: a new temporary folder); must be empty or absent" };
        var keepData = new Option<bool>("--keep-data") { Description = "Keep the data directory after a successful run; a failed run always keeps it" };
        var set = new Option<string[]>("--set") { Description = "Passed to every node: override one configuration key (repeatable), e.g. distsys.txn.mode=replicated" };
        var command = new Command("bank",
            "Concurrent transfers between accounts under kill -9 of random nodes; checks money conservation, minimums and balances against the committed transfers")
        {
            nodes, accounts, clients, seconds, protocol, killEvery, seed, balance, amount, settle, basePort, httpBasePort, dataDir, keepData, set,
        };
        command.SetAction((p, ct) => BankRun.RunAsync(new Options(
            p.GetValue(nodes), p.GetValue(accounts), p.GetValue(clients), p.GetValue(seconds), p.GetValue(protocol)!, p.GetValue(killEvery), p.GetValue(seed),
            p.GetValue(balance), p.GetValue(amount), p.GetValue(settle), p.GetValue(basePort), p.GetValue(httpBasePort), p.GetValue(dataDir), p.GetValue(keepData),
            p.GetValue(set) ?? []), ct));
        return command;
    }
}

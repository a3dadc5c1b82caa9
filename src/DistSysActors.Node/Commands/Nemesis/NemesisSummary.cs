using System.Globalization;
using DistSysActors.Simulation.Checkers;

namespace DistSysActors.Node.Commands.Nemesis;

/// <summary>
/// What `distsys bench nemesis` prints at the end: operations by outcome, the unknown share against the target and
/// its causes, the linearizability verdict, lost acknowledged writes and leader changes; and its exit code. Pure.
/// </summary>
internal sealed record NemesisSummary(
    long Seed, IReadOnlyList<OpRecord> Operations, LinearizabilityResult Linearizability, BenchKvVerification.Report Verification,
    (int Changes, int NodeChanges) LeaderChanges, IReadOnlyList<long> LeaderChangeAtMs, int NemesisSteps, double UnknownTargetPercent = 5.0)
{
    /// <summary>Causes listed in the summary, most frequent first.</summary>
    public const int CausesListedMax = 8;

    public int Count => Operations.Count;
    public int Ok => Operations.Count(o => o.Outcome == OpOutcome.Ok);
    public int NotApplied => Operations.Count(o => o.Outcome == OpOutcome.NotApplied);
    public int Unknown => Operations.Count(o => o.Outcome == OpOutcome.Unknown);
    public double UnknownPercent => Count == 0 ? 0 : 100.0 * Unknown / Count;
    public bool Linearizable => Linearizability.Ok;
    public bool Failed => Linearizability.Outcome == CheckOutcome.Illegal || Verification.Violations.Count > 0;

    /// <summary>1 when the history is not linearizable or an acknowledged write was lost; 0 otherwise (an undecided check is reported, not failed).</summary>
    public int ExitCode => Failed ? 1 : 0;

    public string Format()
    {
        var c = CultureInfo.InvariantCulture;
        var reads = Operations.Where(o => o.Read).ToList();
        var writes = Operations.Where(o => !o.Read).ToList();
        var unknown = Operations.Where(o => o.Outcome == OpOutcome.Unknown).ToList();
        var lines = new List<string>
        {
            string.Create(c, $"operations: {Count} ({writes.Count} writes, {reads.Count} linearizable reads); nemesis steps: {NemesisSteps}; seed {Seed}"),
            string.Create(c, $"  ok:          {Ok,7} ({Percent(Ok)}%)"),
            string.Create(c, $"  not-applied: {NotApplied,7} ({Percent(NotApplied)}%)   certainly no effect: 503 not-applied, 4xx, refused before sending"),
            string.Create(c, $"  unknown:     {Unknown,7} ({Percent(Unknown)}%)   {unknown.Count(o => !o.Read)} writes, {unknown.Count(o => o.Read)} reads: 503 unknown, no answer in time, connection lost after sending"),
        };
        if (unknown.Count > 0)
        {
            lines.Add("  unknown by cause:");
            lines.AddRange(Top(unknown.GroupBy(o => o.Result.Cause)).Select(g => $"    {g.Count(),6}  {g.Key}"));
            lines.Add("  unknown by what the nemesis was doing to the node first asked, when asked:");
            lines.AddRange(Top(unknown.GroupBy(o => o.NodeState)).Select(g => $"    {g.Count(),6}  {g.Key}"));
            var duringElection = unknown.Count(o => LeaderChangeAtMs.Any(t => t >= o.CallMs && t <= o.ReturnMs));
            lines.Add($"    {duringElection,6}  of them were waiting while a new leader was seen");
            var retried = unknown.Count(o => !o.Read && o.Attempts > 1);
            if (retried > 0) lines.Add($"    {retried,6}  writes stayed unknown after retries under their Idempotency-Key");
        }
        var retriedOk = writes.Count(o => o.Outcome == OpOutcome.Ok && o.Attempts > 1);
        if (retriedOk > 0) lines.Add($"  {retriedOk} writes were acknowledged only when sent again under their Idempotency-Key (the first attempt's outcome was unknown)");
        var notApplied = Operations.Where(o => o.Outcome == OpOutcome.NotApplied).ToList();
        if (notApplied.Count > 0)
        {
            lines.Add("  not-applied by cause:");
            lines.AddRange(Top(notApplied.GroupBy(o => o.Result.Cause)).Select(g => $"    {g.Count(),6}  {g.Key}"));
        }
        lines.Add(string.Create(c, $"target: at most {UnknownTargetPercent:0.#}% unknown: {(UnknownPercent <= UnknownTargetPercent ? "met" : "MISSED")} ({Percent(Unknown)}%)"));
        lines.Add($"leader changes seen: {LeaderChanges.Changes} (elections won after the first; {LeaderChanges.NodeChanges} moved leadership to another node)");
        lines.Add(Linearizability.Outcome switch
        {
            CheckOutcome.Ok => $"linearizable: yes ({Linearizability.Explanation})",
            CheckOutcome.Illegal => $"linearizable: NO: {Linearizability.Explanation}",
            _ => $"linearizable: undecided ({Linearizability.Explanation})",
        });
        lines.Add(Verification.Format());
        return string.Join(Environment.NewLine, lines);

        string Percent(int n) => (Count == 0 ? 0 : 100.0 * n / Count).ToString("0.0", c);
    }

    private static IEnumerable<IGrouping<string, OpRecord>> Top(IEnumerable<IGrouping<string, OpRecord>> groups) =>
        groups.OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(CausesListedMax);
}

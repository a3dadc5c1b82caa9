using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions;

public sealed partial class TxnParticipant
{
    /// <summary>
    /// 3PC with timeouts (Skeen 1981; Bernstein, Hadzilacos, Goodman ch. 7.5): a participant that has heard nothing for
    /// <see cref="TxnConfig.DecisionTimeoutMs"/> becomes a new coordinator and runs the termination protocol: it polls
    /// the other participants for <see cref="TxnConfig.TerminationPollMs"/> and decides on what it heard, its own state
    /// included: any aborted, abort; any committed or pre-committed, commit; all uncertain, abort. Nobody blocks on a
    /// crashed coordinator. Under a partition each side decides on its own survivors, so the sides can disagree.
    /// </summary>
    private void TickThreePhase(Pending p, long nowMs)
    {
        var id = p.Record.Id;
        if (p.Poll is { } poll)
        {
            if (nowMs < poll.UntilMs) return;
            p.Poll = null;
            var states = poll.States.Values.Append(p.State).ToArray();
            var commit = !states.Contains(TxnState.Aborted) && states.Any(s => s is TxnState.Committed or TxnState.PreCommitted);
            Decide(id, commit);
            foreach (var peer in p.Record.Participants)
                if (peer != _self) _ready.Send(peer, new Decision(_self, id, commit));
            TerminatedBy3pc++;
            return;
        }
        if (nowMs - p.LastHeardMs < _config.DecisionTimeoutMs) return;
        p.Poll = new Termination(nowMs + _config.TerminationPollMs);
        foreach (var peer in p.Record.Participants)
            if (peer != _self) _ready.Send(peer, new StateRequest(_self, id, false));
    }

    /// <summary>3PC transactions this participant decided by the termination protocol (as the new coordinator).</summary>
    public long TerminatedBy3pc { get; private set; }
}

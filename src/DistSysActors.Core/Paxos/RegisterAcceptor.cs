using static DistSysActors.Core.Paxos.RegisterPaxos;

namespace DistSysActors.Core.Paxos;

/// <summary>
/// The acceptor of Basic Paxos, one state per register: it promises to ignore ballots below the highest Prepare it saw
/// and accepts a proposal unless it promised a higher ballot ("Paxos Made Simple", P1a). Every change of its state is
/// persisted before the Promise or Accepted that reveals it leaves (the Ready's writes precede its messages), so a
/// restarted acceptor never breaks a promise it made.
/// </summary>
public sealed class RegisterAcceptor(NodeId self, IRegisterEffects effects, int registersMax = RegisterAcceptor.RegistersMaxDefault)
{
    public const int RegistersMaxDefault = 100_000;

    private readonly SortedDictionary<string, AcceptorRecord> _state = new(StringComparer.Ordinal);

    public int Count => _state.Count;

    /// <summary>Rebuilds the state from the journal (the last record per register wins).</summary>
    public void Restore(AcceptorRecord record) => _state[record.Name] = record;

    public AcceptorRecord? StateOf(string name) => _state.GetValueOrDefault(name);

    public IEnumerable<AcceptorRecord> States => _state.Values;

    public void OnPrepare(Prepare m)
    {
        if (StateFor(m.Name) is not { } s) return;
        if (m.Ballot > s.Promised)
        {
            var promised = s with { Promised = m.Ballot };
            Store(promised);
            effects.Send(m.From, new Promise(self, m.Name, m.Ballot, promised.AcceptedBallot, promised.AcceptedValue));
        }
        else if (m.Ballot == s.Promised)
        {
            // A duplicate Prepare: the same promise again (its record was written, or is in this Ready's writes).
            effects.Send(m.From, new Promise(self, m.Name, m.Ballot, s.AcceptedBallot, s.AcceptedValue));
        }
        else effects.Send(m.From, new Rejected(self, m.Name, m.Ballot, s.Promised));
    }

    public void OnAccept(Accept m)
    {
        if (StateFor(m.Name) is not { } s) return;
        if (m.Ballot < s.Promised)
        {
            effects.Send(m.From, new Rejected(self, m.Name, m.Ballot, s.Promised));
            return;
        }
        if (s.AcceptedBallot != m.Ballot) Store(new AcceptorRecord(m.Name, m.Ballot, m.Ballot, m.Value));
        else if (s.Promised != m.Ballot) Store(s with { Promised = m.Ballot });
        effects.Send(m.From, new Accepted(self, m.Name, m.Ballot));
    }

    /// <summary>The register's state, or null when it is new and the limit on registers is reached (the message is ignored).</summary>
    private AcceptorRecord? StateFor(string name)
    {
        if (_state.TryGetValue(name, out var s)) return s;
        return _state.Count >= registersMax ? null : new AcceptorRecord(name, Ballot.Zero, Ballot.Zero, null);
    }

    private void Store(AcceptorRecord record)
    {
        _state[record.Name] = record;
        effects.Persist(record);
    }

    public IEnumerable<string> CheckInvariants() =>
        _state.Values.Where(s => s.AcceptedBallot > s.Promised).Select(s => $"acceptor {self} register {s.Name}: accepted {s.AcceptedBallot} above its promise {s.Promised}");
}

/// <summary>
/// The learner of Basic Paxos: it records the values proposers announce as chosen (a distinguished learner per proposal,
/// "Paxos Made Simple" section 2.3), persists them so a restart keeps them, and tells peers who ask (catch-up).
/// </summary>
public sealed class RegisterLearner(NodeId self, IRegisterEffects effects)
{
    private readonly SortedDictionary<string, ChosenRecord> _chosen = new(StringComparer.Ordinal);
    private readonly List<string> _conflicts = [];

    public int Count => _chosen.Count;

    public IEnumerable<ChosenRecord> Chosen => _chosen.Values;

    public void Restore(ChosenRecord record) => _chosen.TryAdd(record.Name, record);

    public ChosenRecord? ChosenOf(string name) => _chosen.GetValueOrDefault(name);

    /// <summary>Learns a chosen value; returns true when it is new here.</summary>
    public bool OnChosen(RegisterPaxos.Chosen m)
    {
        if (_chosen.TryGetValue(m.Name, out var known))
        {
            if (!string.Equals(known.Value, m.Value, StringComparison.Ordinal))
                _conflicts.Add($"learner {self} register {m.Name}: chosen '{known.Value}' at {known.Ballot}, then told '{m.Value}' at {m.Ballot} by {m.From}");
            return false;
        }
        var record = new ChosenRecord(m.Name, m.Ballot, m.Value);
        _chosen.Add(m.Name, record);
        effects.Persist(record);
        effects.Answer(new Learned(m.Name, m.Value, m.Ballot));
        return true;
    }

    public void OnLearnRequest(LearnRequest m)
    {
        if (_chosen.TryGetValue(m.Name, out var known)) effects.Send(m.From, new RegisterPaxos.Chosen(self, known.Name, known.Ballot, known.Value));
    }

    public IEnumerable<string> CheckInvariants() => _conflicts;
}

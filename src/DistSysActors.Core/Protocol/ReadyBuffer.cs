namespace DistSysActors.Core.Protocol;

/// <summary>
/// The effects a core buffers until its next Ready, for cores without a Ready type of their own. A Ready with writes
/// must be advanced before the next is taken (its writes are not durable yet); one without may be left unacknowledged.
/// </summary>
public sealed class ReadyBuffer<TMessage>
{
    private readonly List<Outgoing<TMessage>> _before = [];
    private readonly List<object> _writes = [];
    private readonly List<Outgoing<TMessage>> _after = [];
    private readonly List<object> _applies = [];
    private readonly List<object> _answers = [];
    private ProtocolReady<TMessage>? _unacknowledgedWrites;

    /// <summary>Effects are buffered and no Ready with writes is outstanding (this buffer hands out nothing meanwhile).</summary>
    public bool HasReady => _unacknowledgedWrites is null && (_before.Count > 0 || _writes.Count > 0 || _after.Count > 0 || _applies.Count > 0 || _answers.Count > 0);

    /// <summary>Messages buffered for sending, before and after persisting.</summary>
    public int MessageCount => _before.Count + _after.Count;

    public int WriteCount => _writes.Count;

    /// <summary>Whether a Ready with writes was taken and not yet advanced.</summary>
    public bool WritesInFlight => _unacknowledgedWrites is not null;

    /// <summary>Traffic that promises nothing about this node's disk.</summary>
    public void SendBeforePersist(NodeId to, TMessage message) => _before.Add(new Outgoing<TMessage>(to, message));

    /// <summary>Traffic that leaves once this Ready's writes are durable.</summary>
    public void Send(NodeId to, TMessage message) => _after.Add(new Outgoing<TMessage>(to, message));

    public void Persist(object write) => _writes.Add(write);

    public void Apply(object entry) => _applies.Add(entry);

    public void Answer(object answer) => _answers.Add(answer);

    public ProtocolReady<TMessage> Take()
    {
        if (_unacknowledgedWrites is not null) throw new InvalidOperationException("a Ready with writes is outstanding: call Advance first");
        if (!HasReady) return ProtocolReady<TMessage>.Empty;
        var ready = new ProtocolReady<TMessage>([.. _before], [.. _writes], [.. _after], [.. _applies], [.. _answers]);
        _before.Clear();
        _writes.Clear();
        _after.Clear();
        _applies.Clear();
        _answers.Clear();
        if (ready.Writes.Count > 0) _unacknowledgedWrites = ready;
        return ready;
    }

    public void Advance(ProtocolReady<TMessage> ready)
    {
        if (ready.Writes.Count == 0) return;
        if (!ReferenceEquals(ready, _unacknowledgedWrites)) throw new InvalidOperationException("Advance must be given the Ready returned by the last TakeReady");
        _unacknowledgedWrites = null;
    }
}

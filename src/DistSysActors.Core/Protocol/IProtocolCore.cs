namespace DistSysActors.Core.Protocol;

/// <summary>
/// How every pure protocol core is driven. Inputs: <see cref="Step"/> for a message (from the network or a local
/// request), <see cref="Tick"/> for time; <c>nowMs</c> is the host's clock (monotonic, or the node's raw clock for
/// clock cores). Outputs: <see cref="TakeReady"/>, executed by the host in <see cref="ReadyExecutor"/>'s order, then
/// acknowledged with <see cref="Advance"/>. No I/O, no clock, no unseeded randomness: a simulator and an actor host
/// drive the same core and differ only in the environment the effects go to.
/// </summary>
public interface IProtocolCore<TMessage, TReady>
    where TReady : class, IReady<TMessage>
{
    /// <summary>Handles one input received at <paramref name="nowMs"/>.</summary>
    void Step(TMessage message, long nowMs);

    /// <summary>Advances time to <paramref name="nowMs"/>: timeouts, periodic sends.</summary>
    void Tick(long nowMs);

    /// <summary>
    /// Whether <see cref="TakeReady"/> has effects to hand out now. While a Ready with writes is outstanding (taken, not
    /// yet advanced) it may be true only for a Ready without writes, which a host may execute at once.
    /// </summary>
    bool HasReady { get; }

    /// <summary>Takes the buffered effects; the next Ready with writes comes only after <see cref="Advance"/> of this one.</summary>
    TReady TakeReady();

    /// <summary>Acknowledges that the host executed <paramref name="ready"/> (its writes are durable).</summary>
    void Advance(TReady ready);

    /// <summary>The core's own invariants that do not hold now (empty when all hold); a simulator checks them after every event.</summary>
    IReadOnlyList<string> CheckInvariants();
}

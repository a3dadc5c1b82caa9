using System.Collections.Immutable;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>Every Raft wire message and journal event survives Akka's configured serializer, as it must between processes.</summary>
public sealed class RaftWireFormatSpec() : TestKit("")
{
    private static readonly NodeId A = new(1), B = new(2);
    private static readonly ImmutableArray<LogEntry> Entries = [new(7, 3, EntryType.NoOp, []), new(8, 3, EntryType.Normal, [1, 2, 3, 255])];

    public static TheoryData<object> Messages() => new()
    {
        new RequestVote(A, B, 5, 9, 4, PreVote: true),
        new RequestVoteResponse(A, B, 5, Granted: true, PreVote: false),
        new AppendEntries(A, B, 5, 6, 2, Entries, 8),
        new AppendEntriesResponse(A, B, 5, Success: false, MatchIndex: 0, RejectedIndex: 9, ConflictIndex: 4, ConflictTerm: 2),
        new Heartbeat(A, B, 5, 8, 77),
        new HeartbeatResponse(A, B, 5, 77),
        new Propose(A, B, [9, 8, 7]),
        new ReadIndexRequest(A, B, 42, ReadMode.Lease),
        new ReadIndexResponse(A, B, 5, 42, 8),
        new RaftHardStateSaved(5, 1, 8),
        new RaftHardStateSaved(5, null, 0),
        new RaftEntriesSaved(7, Entries.Select(RaftEntryRecord.From).ToArray()),
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void Round_trips_through_the_configured_serializer(object message)
    {
        var wire = new NetworkProtocol.WireMessage(A, B, RaftProtocol.Service, message);
        var serializer = Sys.Serialization.FindSerializerFor(wire);
        var back = (NetworkProtocol.WireMessage)serializer.FromBinary(serializer.ToBinary(wire), typeof(NetworkProtocol.WireMessage));
        Assert.Equal((A, B, RaftProtocol.Service), (back.From, back.To, back.Service));
        Assert.Equal(message.GetType(), back.Payload.GetType());
        Assert.Equal(Describe(message), Describe(back.Payload));
    }

    /// <summary>Value text including array contents (records compare arrays by reference).</summary>
    private static string Describe(object m) => m switch
    {
        AppendEntries ae => $"{ae} {string.Join(",", ae.Entries.Select(e => $"{e}:{Convert.ToHexString(e.Data)}"))}",
        Propose p => $"{p.From} {p.To} {Convert.ToHexString(p.Data)}",
        RaftEntriesSaved s => $"{s.FromIndex} {string.Join(",", s.Entries.Select(e => $"{e.Index}/{e.Term}/{e.Type}/{Convert.ToHexString(e.Data)}"))}",
        _ => m.ToString()!,
    };
}

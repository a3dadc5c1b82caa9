using System.Collections.Immutable;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.Tests.LogPipeline;

/// <summary>
/// The log pipeline's serializer (id 4184) writes a shipped batch (a record with every optional field, and a bare one)
/// and the aggregator's snapshot marker to exactly these bytes, and reads them back.
/// </summary>
public sealed class LogReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly LogRecord Full = new("r1", new NodeId(2), 1000, 1001, new HlcTimestamp(1000, 3), 7, Severity.Warn, "hi", "t1", "s1",
        ImmutableSortedDictionary<string, string>.Empty.Add("k", "v"),
        VectorClock.From([new VectorClockEntry(new NodeId(1), 2), new VectorClockEntry(new NodeId(2), 5)]));

    private static readonly LogRecord Bare = new("r2", new NodeId(3), 5, 6, new HlcTimestamp(5, 0), 1, Severity.Info, "");

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("LogBatch", new LogBatch([Full, Bare]), 4184, "LB", "01", "02000000",
            // Full: id, node, timestamp, observed, hlc wall and logical, lamport, severity, body
            "02000000 7231", "02000000", "E803000000000000", "E903000000000000", "E803000000000000", "0300000000000000",
            "0700000000000000", "0D000000", "02000000 6869",
            // trace, span, one attribute k=v, a vector of two entries
            "01", "02000000 7431", "01", "02000000 7331", "01000000", "01000000 6B", "01000000 76",
            "01", "02000000", "01000000 0200000000000000", "02000000 0500000000000000",
            // Bare: no trace, span, attributes or vector
            "02000000 7232", "03000000", "0500000000000000", "0600000000000000", "0500000000000000", "0000000000000000",
            "0100000000000000", "09000000", "00000000", "00", "00", "00000000", "00"),
        Case("LogAggregateState", new LogAggregateState(258), 4184, "LA", "01", "0201000000000000"),
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}

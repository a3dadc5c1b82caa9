using DistSysActors.Node.Commands;
using W = DistSysActors.Node.Commands.BenchKvVerification.WriteRecord;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>`distsys bench kv --verify`: the values it writes, how it classifies answers, and the check over recorded histories.</summary>
public class BenchKvVerificationTests
{
    private const int Bytes = 64;

    private static string V(int writer, long seq) => BenchKvVerification.Value(writer, seq, Bytes);

    private static BenchKvVerification.Report Check(W[] writes, params (string Key, string? Value)[] reads) =>
        BenchKvVerification.Check(writes, reads.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal));

    /// <summary>Each case: the writes (key, writer, seq, acknowledged index or null for unknown outcome), the reads, and the violation expected (null: none).</summary>
    private static readonly Dictionary<string, (W[] Writes, (string, string?)[] Reads, string? Violation)> Table = new()
    {
        ["the latest acknowledged write is read"] = ([new("a", 1, 1, 10), new("a", 2, 1, 12), new("a", 1, 2, 11)], [("a", V(2, 1))], null),
        ["an older acknowledged write is read: the newer one was lost"] = ([new("a", 1, 1, 10), new("a", 2, 1, 12)], [("a", V(1, 1))],
            "key a: expected vid-0002-0000000001 (index 12), got vid-0001-0000000001 (acknowledged at index 10)"),
        ["an unknown-outcome write may be later than the latest acknowledged one"] = ([new("a", 1, 1, 10), new("a", 2, 1, null)], [("a", V(2, 1))], null),
        ["with an unknown-outcome write the acknowledged value is still fine"] = ([new("a", 1, 1, 10), new("a", 2, 1, null)], [("a", V(1, 1))], null),
        ["an unknown-outcome write does not excuse an older acknowledged value"] = ([new("a", 1, 1, 10), new("a", 1, 2, 12), new("a", 2, 1, null)], [("a", V(1, 1))],
            "key a: expected vid-0001-0000000002 (index 12) or one of 1 writes with unknown outcome, got vid-0001-0000000001 (acknowledged at index 10)"),
        ["a key with an acknowledged write is missing"] = ([new("a", 1, 1, 10), new("b", 1, 2, 11)], [("a", null), ("b", V(1, 2))],
            "key a: expected vid-0001-0000000001 (index 10), got missing (404)"),
        ["a key with an acknowledged write is missing despite an unknown write"] = ([new("a", 1, 1, 10), new("a", 2, 1, null)], [("a", null)],
            "key a: expected vid-0001-0000000001 (index 10) or one of 1 writes with unknown outcome, got missing (404)"),
        ["a key with only unknown-outcome writes may be absent"] = ([new("a", 1, 1, null)], [("a", null)], null),
        ["a key with only unknown-outcome writes may hold one of them"] = ([new("a", 1, 1, null), new("a", 1, 2, null)], [("a", V(1, 1))], null),
        ["a key holds another key's write"] = ([new("a", 1, 1, 10), new("b", 1, 2, 11)], [("a", V(1, 2)), ("b", V(1, 2))],
            "key a: expected vid-0001-0000000001 (index 10), got vid-0001-0000000002 (never written to this key)"),
        ["a key holds a value nobody wrote"] = ([new("a", 1, 1, 10)], [("a", new string('x', Bytes))],
            "key a: expected vid-0001-0000000001 (index 10), got an unrecognised or corrupted value 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"),
        ["a key holds the right id with corrupted padding"] = ([new("a", 1, 1, 10)], [("a", V(1, 1)[..^1] + "#")],
            "key a: expected vid-0001-0000000001 (index 10), got an unrecognised or corrupted value"),
        ["two acknowledged writes at one index across keys"] = ([new("a", 1, 1, 10), new("b", 2, 1, 10)], [("a", V(1, 1)), ("b", V(2, 1))],
            "key a, b: expected one acknowledged write at index 10, got 2 (vid-0001-0000000001 to a, vid-0002-0000000001 to b)"),
        ["two acknowledged writes at one index on one key"] = ([new("a", 1, 1, 10), new("a", 2, 1, 10)], [("a", V(2, 1))],
            "key a: expected one acknowledged write at index 10, got 2"),
    };

    public static TheoryData<string> Cases => new(Table.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Histories_are_checked_against_the_final_reads(string name)
    {
        var (writes, reads, violation) = Table[name];
        var report = Check(writes, reads);
        var lines = report.Violations.Select(v => $"key {v.Key}: expected {v.Expected}, got {v.Got}").ToList();
        if (violation is null) Assert.True(lines.Count == 0, $"{name}: {string.Join("; ", lines)}");
        else
        {
            // A duplicate index on one key also leaves "the latest" ambiguous, so that case reports a second line.
            Assert.True(lines.Count == (name.EndsWith("on one key", StringComparison.Ordinal) ? 2 : 1) && lines[0].StartsWith(violation, StringComparison.Ordinal),
                $"{name}: expected '{violation}', got [{string.Join("; ", lines)}]");
            Assert.False(report.Passed);
            Assert.Contains($"{report.Violations.Count} lost", report.Format());
        }
    }

    [Fact]
    public void A_clean_run_prints_the_counts_and_passes()
    {
        var report = Check([new("a", 1, 1, 10), new("a", 1, 2, 11), new("b", 2, 1, 12), new("c", 2, 2, null)], ("a", V(1, 2)), ("b", V(2, 1)), ("c", null));
        Assert.True(report.Passed);
        Assert.Equal(3, report.KeysChecked);
        Assert.Equal(3, report.AcknowledgedWrites);
        Assert.Equal(1, report.UnknownWrites);
        Assert.StartsWith("verify: 3 keys checked, 3 acknowledged writes, 0 lost", report.Format());
    }

    [Fact]
    public void A_key_that_could_not_be_read_back_leaves_the_run_unverified()
    {
        var report = Check([new("a", 1, 1, 10), new("b", 1, 2, 11)], ("a", V(1, 1)));
        Assert.Empty(report.Violations);
        Assert.False(report.Passed);
        Assert.Equal(["b"], report.Unread);
        Assert.Contains("not verified: 1 written keys could not be read back (b)", report.Format());
    }

    [Theory]
    [InlineData(20)]
    [InlineData(256)]
    [InlineData(65536)]
    public void Values_have_the_exact_size_a_unique_id_and_parse_back(int bytes)
    {
        var a = BenchKvVerification.Value(7, 42, bytes);
        var b = BenchKvVerification.Value(7, 43, bytes);
        Assert.Equal(bytes, a.Length);
        Assert.StartsWith("vid-0007-0000000042:", a);
        Assert.NotEqual(a, b);
        Assert.Equal((7, 42L), BenchKvVerification.Parse(a));
        Assert.Null(BenchKvVerification.Parse("vid-0007-0000000042"));
        Assert.Null(BenchKvVerification.Parse(new string('v', bytes)));
    }

    [Theory]
    [InlineData(200, """{"index":17}""", 17L, true)]
    [InlineData(200, "ok", null, true)]
    [InlineData(503, """{"error":"the write was not confirmed in time","outcome":"unknown"}""", null, true)]
    [InlineData(503, """{"error":"no leader known","outcome":"not-applied"}""", null, false)]
    [InlineData(503, "<html/>", null, true)]
    [InlineData(500, "", null, true)]
    [InlineData(502, "", null, true)]
    [InlineData(400, """{"error":"bad key"}""", null, false)]
    [InlineData(413, "", null, false)]
    public void Answers_are_classified_as_acknowledged_not_applied_or_unknown(int code, string body, long? index, bool applied)
    {
        var outcome = BenchKvVerification.Classify(code, body);
        Assert.Equal(index, outcome.Index);
        Assert.Equal(applied, outcome.Applied);
    }
}

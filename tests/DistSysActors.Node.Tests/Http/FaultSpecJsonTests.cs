using DistSysActors.Core;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Tests.Http;

public class FaultSpecJsonTests
{
    [Fact]
    public void A_full_spec_parses_into_every_field()
    {
        var (spec, error) = FaultSpecJson.Parse("""{"partitions": [[1,2],[3]], "dropRate": 0.1, "delayMs": [5,50], "duplicateRate": 0.2, "reorder": true, "seed": 7}""", 3);
        Assert.Null(error);
        Assert.NotNull(spec);
        Assert.Equal(new[] { new NodeId(1), new NodeId(2) }, spec.Partitions[0].ToArray());
        Assert.Equal((0.1, 5, 50, 0.2, true, 7L), (spec.DropRate, spec.DelayMinMs, spec.DelayMaxMs, spec.DuplicateRate, spec.Reorder, spec.Seed));
        Assert.Equal(spec, FaultSpecDto.From(spec).ToSpec());
    }

    [Fact]
    public void An_empty_body_is_no_faults() => Assert.True(FaultSpecJson.Parse("", 3).Spec!.IsNone);

    [Theory]
    [InlineData("{oops", "malformed JSON")]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("""{"dropRate": 1.5}""", "dropRate")]
    [InlineData("""{"dropRate": "high"}""", "dropRate must be a number")]
    [InlineData("""{"dropRate": 0.1, "dropRate": 0.2}""", "malformed JSON")]
    [InlineData("""{"partitions": [[1,"2"]]}""", "partitions must hold integers")]
    [InlineData("""{"seed": 1e40}""", "seed must be an integer")]
    [InlineData("""{"duplicateRate": -0.1}""", "duplicateRate")]
    [InlineData("""{"delayMs": [50, 5]}""", "delayMs")]
    [InlineData("""{"delayMs": 5}""", "delayMs must be an array")]
    [InlineData("""{"partitions": [[1,2],[2,3]]}""", "more than one group")]
    [InlineData("""{"partitions": [[1],[4]]}""", "not in this cluster")]
    [InlineData("""{"partitions": [1,2]}""", "array of arrays")]
    [InlineData("""{"drop": 0.1}""", "unknown field 'drop'")]
    public void Bad_input_is_an_error_naming_the_problem(string body, string expected)
    {
        var (spec, error) = FaultSpecJson.Parse(body, 3);
        Assert.Null(spec);
        Assert.Contains(expected, error);
    }
}

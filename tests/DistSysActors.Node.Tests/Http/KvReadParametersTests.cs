using DistSysActors.Node.Commands;
using DistSysActors.Node.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Node.Tests.Http;

/// <summary>GET /kv/{key}'s read modes and their one parameter each, and the CLI's session token.</summary>
public sealed class KvReadParametersTests
{
    private static (Get? Get, IResult? Error) Parse(params (string Key, string Value)[] query) =>
        KvHttpApi.ParseRead("k", new QueryCollection(query.ToDictionary(q => q.Key, q => new StringValues(q.Value))));

    [Fact]
    public void Every_mode_maps_to_its_read_with_its_parameter()
    {
        Assert.Equal(new Get("k", Consistency.Linearizable), Parse().Get);
        Assert.Equal(new Get("k", Consistency.Stale), Parse(("consistency", "stale")).Get);
        Assert.Equal(new Get("k", Consistency.Lease), Parse(("consistency", "lease")).Get);
        Assert.Equal(new Get("k", Consistency.ReadYourWrites, MinIndex: 42), Parse(("consistency", "read-your-writes"), ("min-index", "42")).Get);
        Assert.Equal(new Get("k", Consistency.Monotonic, MinIndex: 0), Parse(("consistency", "monotonic"), ("min-index", "0")).Get);
        Assert.Equal(new Get("k", Consistency.Bounded, MaxLagMs: 250), Parse(("consistency", "bounded"), ("max-lag-ms", "250")).Get);
    }

    [Theory]
    [InlineData("consistency must be linearizable, lease, stale, read-your-writes, monotonic or bounded", "consistency", "eventual", null, null)]
    [InlineData("consistency=read-your-writes needs min-index", "consistency", "read-your-writes", null, null)]
    [InlineData("consistency=bounded needs max-lag-ms", "consistency", "bounded", null, null)]
    [InlineData("min-index must be a non-negative integer, was '-1'", "consistency", "monotonic", "min-index", "-1")]
    [InlineData("min-index must be a non-negative integer, was 'ten'", "consistency", "read-your-writes", "min-index", "ten")]
    [InlineData("max-lag-ms must be a non-negative integer", "consistency", "bounded", "max-lag-ms", "1.5")]
    [InlineData("min-index applies only to consistency=read-your-writes or monotonic, not stale", "consistency", "stale", "min-index", "3")]
    [InlineData("max-lag-ms applies only to consistency=bounded, not monotonic", "consistency", "monotonic", "max-lag-ms", "3")]
    public void Bad_parameters_answer_400_naming_the_problem(string expected, string k1, string v1, string? k2, string? v2)
    {
        var query = k2 is null ? new[] { (k1, v1) } : new[] { (k1, v1), (k2, v2!) };
        var (get, error) = Parse(query);
        Assert.Null(get);
        Assert.Equal(400, Assert.IsAssignableFrom<IStatusCodeHttpResult>(error).StatusCode);
        var body = Assert.IsAssignableFrom<IValueHttpResult>(error).Value;
        Assert.Contains(expected, Assert.IsType<ErrorDto>(body).Error);
    }

    [Fact]
    public void The_session_token_only_rises_and_learns_from_write_indexes_and_read_applied_indexes()
    {
        var path = Path.Combine(Path.GetTempPath(), "distsys-tests", Guid.NewGuid().ToString("N"), "session");
        try
        {
            Assert.Equal(0, SessionToken.Read(path));
            SessionToken.Advance(path, 17);
            SessionToken.Advance(path, 9);
            Assert.Equal(17, SessionToken.Read(path));

            Assert.Equal(5, SessionToken.IndexOf(HttpMethod.Put, 200, """{"index":5}""", null));
            Assert.Equal(6, SessionToken.IndexOf(HttpMethod.Delete, 200, """{"index":6,"deleted":true}""", null));
            Assert.Null(SessionToken.IndexOf(HttpMethod.Post, 409, """{"error":"compare-and-set failed","current":"a","index":7}""", null));
            Assert.Equal(8, SessionToken.IndexOf(HttpMethod.Get, 200, "value", 8));
            Assert.Equal(8, SessionToken.IndexOf(HttpMethod.Get, 404, """{"error":"not found"}""", 8));
            Assert.Null(SessionToken.IndexOf(HttpMethod.Get, 503, """{"outcome":"behind","appliedIndex":3}""", 3));

            File.WriteAllText(path, "garbage");
            Assert.Contains("not a log index", Assert.ThrowsAny<Exception>(() => SessionToken.Read(path)).Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}

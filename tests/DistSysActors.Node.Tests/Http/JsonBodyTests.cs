using System.Net;
using DistSysActors.Node.Http;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Tests.Http;

/// <summary>The one parsing layer of every JSON request body: every malformed input is a 400 reason, never an exception.</summary>
public class JsonBodyTests
{
    private static readonly string[] Fields = ["name", "count"];

    private static (string? Name, string? Error) ReadName(string body) =>
        JsonBody.Parse(body, "{\"name\": string, \"count\": integer}", Fields, b => { _ = b.Int("count"); return b.String("name"); });

    [Fact]
    public void A_well_formed_body_parses() => Assert.Equal(("a", null), ReadName("""{"name": "a", "count": 3}"""));

    [Theory]
    // A repeated field was a 500 with an empty body: the object's lazy dictionary threw ArgumentException on iteration.
    [InlineData("""{"name": "a", "name": "b"}""", "malformed JSON")]
    [InlineData("""{"name": "a", "count": 1, "count": 2}""", "malformed JSON")]
    [InlineData("""{"name": 5}""", "name must be a string")]
    [InlineData("""{"name": ["a"]}""", "name must be a string")]
    [InlineData("""{"name": "a", "count": 1.5}""", "count must be an integer")]
    [InlineData("""{"name": "a", "count": 99999999999}""", "count must be an integer")]
    [InlineData("""{"name": "a", "count": "3"}""", "count must be an integer")]
    [InlineData("""{"count": 3}""", "name is required")]
    [InlineData("""{"name": "a", "other": 1}""", "unknown field 'other'")]
    [InlineData("", "must be a JSON object")]
    [InlineData("null", "must be a JSON object")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("\"text\"", "must be a JSON object")]
    [InlineData("{", "malformed JSON")]
    [InlineData("""{"name": "a"} trailing""", "malformed JSON")]
    [InlineData("""{"name": "a",}""", "malformed JSON")]
    public void Malformed_bodies_are_reasons(string body, string expected)
    {
        var (name, error) = ReadName(body);
        Assert.Null(name);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void Deep_nesting_is_refused_not_recursed()
    {
        var deep = "{\"name\": \"a\", \"count\": " + new string('[', 10_000) + new string(']', 10_000) + "}";
        Assert.Contains("malformed JSON", ReadName(deep).Error);
    }

    [Fact]
    public async Task A_body_over_the_bound_is_413_and_not_read_whole()
    {
        var http = new DefaultHttpContext();
        var stream = new CountingStream(1_000_000);
        http.Request.Body = stream;
        var (text, error) = await JsonBody.ReadTextAsync(http.Request, 1024);
        Assert.Null(text);
        var result = Assert.IsAssignableFrom<IStatusCodeHttpResult>(error);
        Assert.Equal(413, result.StatusCode);
        Assert.True(stream.BytesRead < 64 * 1024, $"read {stream.BytesRead} bytes of an oversized body");
    }

    [Fact]
    public async Task Invalid_utf8_is_400()
    {
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream([0x7B, 0xFF, 0xFE, 0x7D]);
        var (_, error) = await JsonBody.ReadTextAsync(http.Request, 1024);
        Assert.Equal((int)HttpStatusCode.BadRequest, Assert.IsAssignableFrom<IStatusCodeHttpResult>(error).StatusCode);
    }

    /// <summary>An endless body of 'x' that counts what was read.</summary>
    private sealed class CountingStream(long length) : Stream
    {
        public long BytesRead { get; private set; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - BytesRead);
            buffer.AsSpan(offset, n).Fill((byte)'x');
            BytesRead += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

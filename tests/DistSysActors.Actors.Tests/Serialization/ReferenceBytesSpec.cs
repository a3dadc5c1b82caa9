using System.Collections;
using System.Reflection;
using System.Runtime.Serialization;
using System.Text;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;

namespace DistSysActors.Actors.Tests.Serialization;

/// <summary>
/// One fixed encoding: a representative value, the serializer id and manifest Akka must pick for it, and its exact
/// bytes, given field by field. Journals and other nodes hold these bytes, so they change only with a new format version.
/// </summary>
public sealed record ReferenceCase(string Name, object Value, int SerializerId, string Manifest, string Hex)
{
    public override string ToString() => Name;
}

/// <summary>
/// Base of the per-topic reference-bytes specs: encoding each case's value through Akka's serialization (reference
/// configuration) gives exactly its bytes and manifest, and decoding those bytes gives back an equal value.
/// </summary>
public abstract class ReferenceBytesSpec() : TestKit(DistSysConfig.TestOverlay.WithFallback(DistSysConfig.Reference))
{
    /// <param name="fields">The hex of each field in order (spaces allowed), so a layout change shows which field moved.</param>
    protected static ReferenceCase Case(string name, object value, int serializerId, string manifest, params string[] fields) =>
        new(name, value, serializerId, manifest, string.Concat(fields).Replace(" ", "", StringComparison.Ordinal));

    protected static TheoryData<string> NamesOf(IReadOnlyList<ReferenceCase> cases)
    {
        var names = cases.Select(c => c.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        return new TheoryData<string>(names);
    }

    protected void Check(IReadOnlyList<ReferenceCase> cases, string name)
    {
        var c = cases.Single(x => x.Name == name);
        var serializer = Sys.Serialization.FindSerializerFor(c.Value);
        Assert.Equal(c.SerializerId, serializer.Identifier);
        Assert.Equal(c.Manifest, Akka.Serialization.Serialization.ManifestFor(serializer, c.Value));
        Assert.Equal(c.Hex, Convert.ToHexString(serializer.ToBinary(c.Value)));

        var decoded = Sys.Serialization.Deserialize(Convert.FromHexString(c.Hex), c.SerializerId, c.Manifest);
        Assert.Equal(c.Value.GetType(), decoded.GetType());
        Assert.Equal(Describe(c.Value, out var hasArrays), Describe(decoded, out _));
        // Records compare arrays by reference; where the value holds none, record equality must hold as well.
        if (!hasArrays) Assert.Equal(c.Value, decoded);

        // The bytes are exactly delimited: any prefix, or one byte more, is rejected rather than misread.
        var bytes = Convert.FromHexString(c.Hex);
        for (var cut = 0; cut < bytes.Length; cut++)
            Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize(bytes[..cut], c.SerializerId, c.Manifest));
        Assert.Throws<SerializationException>(() => Sys.Serialization.Deserialize([.. bytes, 0], c.SerializerId, c.Manifest));
    }

    /// <summary>Every public property, recursively, arrays item by item: value equality with arrays compared by content.</summary>
    public static string Describe(object? value, out bool hasArrays)
    {
        var text = new StringBuilder();
        var arrays = false;
        Write(value);
        hasArrays = arrays;
        return text.ToString();

        void Write(object? v)
        {
            switch (v)
            {
                case null: text.Append("null"); break;
                case string s: text.Append('"').Append(s).Append('"'); break;
                case double d: text.Append(BitConverter.DoubleToInt64Bits(d).ToString("X16")); break;
                case DateTimeOffset t: text.Append(t.ToString("O")); break;
                case Enum or bool or int or long or byte: text.Append(v); break;
                case IEnumerable items: // before ValueType: ImmutableArray is a struct
                    arrays = true;
                    text.Append('[');
                    foreach (var item in items) { Write(item); text.Append(','); }
                    text.Append(']');
                    break;
                default:
                    text.Append(v.GetType().Name).Append('{');
                    foreach (var p in v.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
                                 .Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"))
                    {
                        text.Append(p.Name).Append('=');
                        Write(p.GetValue(v));
                        text.Append(';');
                    }
                    text.Append('}');
                    break;
            }
        }
    }
}

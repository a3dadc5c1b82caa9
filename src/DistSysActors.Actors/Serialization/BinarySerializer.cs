using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace DistSysActors.Actors.Serialization;

/// <summary>Writes the fields of one value of a <see cref="ManifestTable"/> entry's type.</summary>
internal delegate void FieldEncoder<in T>(T value, ref FieldWriter writer);

/// <summary>Reads the fields a <see cref="FieldEncoder{T}"/> wrote, in the same order.</summary>
internal delegate T FieldDecoder<out T>(ref FieldReader reader);

/// <summary>One type a <see cref="ManifestTable"/> handles: its manifest and its field encoder and decoder.</summary>
internal sealed class ManifestEntry
{
    private readonly FieldEncoder<object> _encode;
    private readonly FieldDecoder<object> _decode;

    private ManifestEntry(Type type, string manifest, FieldEncoder<object> encode, FieldDecoder<object> decode)
    {
        Type = type;
        Manifest = manifest;
        What = $"{type.Name} ({manifest})";
        _encode = encode;
        _decode = decode;
    }

    public Type Type { get; }

    public string Manifest { get; }

    /// <summary>How error messages name this entry.</summary>
    public string What { get; }

    public static ManifestEntry Of<T>(string manifest, FieldEncoder<T> encode, FieldDecoder<T> decode) where T : class =>
        new(typeof(T), manifest, (object value, ref FieldWriter w) => encode((T)value, ref w), (ref FieldReader r) => decode(ref r));

    public void Encode(object value, ref FieldWriter writer) => _encode(value, ref writer);

    public object Decode(ref FieldReader reader) => _decode(ref reader);
}

/// <summary>
/// A serializer's whole format: its id, its format version, and per type a short manifest with the field encoder and
/// decoder. Every encoding is the version byte, then the type's fields (<see cref="FieldWriter"/>).
/// </summary>
internal sealed class ManifestTable
{
    // Tables by serializer id, so a payload nested in another message decodes in place instead of through a copied array.
    private static readonly ConcurrentDictionary<int, ManifestTable> ById = new();

    private readonly FrozenDictionary<Type, ManifestEntry> _byType;
    private readonly FrozenDictionary<string, ManifestEntry> _byManifest;

    public ManifestTable(int serializerId, string owner, byte version, params ReadOnlySpan<ManifestEntry> entries)
    {
        SerializerId = serializerId;
        Owner = owner;
        Version = version;
        var byType = new Dictionary<Type, ManifestEntry>();
        var byManifest = new Dictionary<string, ManifestEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!byType.TryAdd(entry.Type, entry)) throw new ArgumentException($"{owner} lists {entry.Type} twice");
            if (!byManifest.TryAdd(entry.Manifest, entry)) throw new ArgumentException($"{owner} uses manifest '{entry.Manifest}' twice");
        }
        _byType = byType.ToFrozenDictionary();
        _byManifest = byManifest.ToFrozenDictionary(StringComparer.Ordinal);
        Manifests = byType.ToFrozenDictionary(kv => kv.Key, kv => kv.Value.Manifest);
        if (ById.GetOrAdd(serializerId, this) != this) throw new ArgumentException($"serializer id {serializerId} of {owner} is taken by {ById[serializerId].Owner}");
    }

    public int SerializerId { get; }

    public string Owner { get; }

    public byte Version { get; }

    public FrozenDictionary<Type, string> Manifests { get; }

    public static bool TryGet(int serializerId, out ManifestTable table) => ById.TryGetValue(serializerId, out table!);

    public ManifestEntry EntryFor(object value) =>
        _byType.TryGetValue(value.GetType(), out var entry) ? entry
            : throw new ArgumentException($"{Owner} cannot serialize {value.GetType()}", nameof(value));

    /// <summary>Writes <paramref name="value"/>, version byte first.</summary>
    public void Encode(object value, ref FieldWriter writer)
    {
        var entry = EntryFor(value);
        writer.Byte(Version);
        entry.Encode(value, ref writer);
    }

    /// <summary>Reads one value of <paramref name="manifest"/>; truncated, oversized or unknown input is a <see cref="SerializationException"/>.</summary>
    public object Decode(ReadOnlySpan<byte> bytes, string manifest, Akka.Serialization.Serialization? serialization)
    {
        if (!_byManifest.TryGetValue(manifest, out var entry)) throw new SerializationException($"{Owner} does not know manifest '{manifest}'");
        var r = new FieldReader(bytes, entry.What, serialization);
        if (r.Remaining == 0) throw r.Corrupt("no bytes");
        var version = r.Byte();
        if (version != Version) throw r.Corrupt($"unknown format version {version}");
        var value = entry.Decode(ref r);
        r.End();
        return value;
    }
}

/// <summary>
/// Base of this project's binary serializers: a topic's serializer is its id and its <see cref="ManifestTable"/>.
/// Each payload is a format version byte, then little-endian fixed-width fields; strings, byte strings and arrays are
/// int32-length-prefixed; a nested value of any type is written through its own serializer (<see cref="FieldWriter.Payload"/>).
/// </summary>
public abstract class BinarySerializer : SerializerWithStringManifest
{
    private protected BinarySerializer(ExtendedActorSystem system, ManifestTable table) : base(system)
    {
        Table = table;
        if (table.SerializerId != Identifier) throw new ArgumentException($"{GetType().Name} has id {Identifier} but its table is of id {table.SerializerId}");
    }

    /// <summary>Every type this serializer handles, with its manifest (tests check coverage and reference bytes against it).</summary>
    public FrozenDictionary<Type, string> TypeManifests => Table.Manifests;

    internal ManifestTable Table { get; }

    public override string Manifest(object o) => Table.EntryFor(o).Manifest;

    public override byte[] ToBinary(object obj)
    {
        var measure = FieldWriter.Measuring(system.Serialization);
        Table.Encode(obj, ref measure);
        var bytes = new byte[measure.Position];
        var writer = measure.Into(bytes);
        Table.Encode(obj, ref writer);
        if (writer.Position != bytes.Length) throw new InvalidOperationException($"{Table.Owner} wrote {writer.Position} bytes of {obj.GetType()} after measuring {bytes.Length}");
        return bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest) => Table.Decode(bytes, manifest, system.Serialization);

    /// <summary>Writes <paramref name="obj"/> into <paramref name="writer"/> (used for payloads nested in another message).</summary>
    internal void Write(object obj, ref FieldWriter writer) => Table.Encode(obj, ref writer);
}

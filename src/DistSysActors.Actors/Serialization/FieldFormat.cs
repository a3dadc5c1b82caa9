using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;

namespace DistSysActors.Actors.Serialization;

/// <summary>
/// Writes little-endian fields and length-prefixed byte strings into one exactly sized array. An encoder runs twice
/// over the same code: first with a measuring writer (no buffer) to learn the size, then into the result array from
/// <see cref="Into"/>, so a message costs one allocation and each entry's data is copied once.
/// </summary>
internal ref struct FieldWriter
{
    private readonly Span<byte> _buffer;
    private readonly bool _measuring;
    private readonly Akka.Serialization.Serialization? _serialization;
    // Payloads of other serializers, serialized once while measuring and copied while writing, so both passes agree.
    private List<byte[]>? _foreign;
    private int _foreignNext;

    private FieldWriter(Span<byte> buffer, bool measuring, Akka.Serialization.Serialization? serialization, List<byte[]>? foreign)
    {
        _buffer = buffer;
        _measuring = measuring;
        _serialization = serialization;
        _foreign = foreign;
        Position = 0;
    }

    public int Position { get; private set; }

    /// <param name="serialization">Akka's serialization, needed only by <see cref="Payload"/>.</param>
    public static FieldWriter Measuring(Akka.Serialization.Serialization? serialization = null) => new(default, measuring: true, serialization, foreign: null);

    /// <summary>A writer into <paramref name="buffer"/>, which must be as long as this measuring writer's <see cref="Position"/>.</summary>
    public readonly FieldWriter Into(Span<byte> buffer) =>
        _measuring ? new(buffer, measuring: false, _serialization, _foreign) : throw new InvalidOperationException("only a measuring writer gives a writer into a buffer");

    public void Byte(byte value)
    {
        if (!_measuring) _buffer[Position] = value;
        Position += 1;
    }

    public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

    public void Int32(int value)
    {
        if (!_measuring) BinaryPrimitives.WriteInt32LittleEndian(_buffer[Position..], value);
        Position += 4;
    }

    public void Int64(long value)
    {
        if (!_measuring) BinaryPrimitives.WriteInt64LittleEndian(_buffer[Position..], value);
        Position += 8;
    }

    /// <summary>The IEEE 754 bits, so every value (NaN, infinities, -0) comes back exactly.</summary>
    public void Double(double value) => Int64(BitConverter.DoubleToInt64Bits(value));

    /// <summary>An int32 length, then the bytes.</summary>
    public void Bytes(ReadOnlySpan<byte> value)
    {
        Int32(value.Length);
        Raw(value);
    }

    public void Raw(ReadOnlySpan<byte> value)
    {
        if (!_measuring) value.CopyTo(_buffer[Position..]);
        Position += value.Length;
    }

    /// <summary>An int32 byte length, then the UTF-8 text.</summary>
    public void String(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        Int32(length);
        if (!_measuring) Encoding.UTF8.GetBytes(value, _buffer.Slice(Position, length));
        Position += length;
    }

    /// <summary>
    /// Any value through the serializer Akka binds to its type: that serializer's id, its manifest, then the bytes,
    /// int32-length-prefixed. A <see cref="BinarySerializer"/> writes them in place, without an intermediate array.
    /// </summary>
    public void Payload(object value)
    {
        var serialization = _serialization ?? throw new InvalidOperationException("writing a payload needs Akka's serialization");
        var serializer = serialization.FindSerializerFor(value);
        Int32(serializer.Identifier);
        String(Akka.Serialization.Serialization.ManifestFor(serializer, value));
        if (serializer is BinarySerializer binary)
        {
            var lengthAt = Position;
            Int32(0);
            binary.Write(value, ref this);
            if (!_measuring) BinaryPrimitives.WriteInt32LittleEndian(_buffer[lengthAt..], Position - lengthAt - 4);
            return;
        }
        byte[] bytes;
        if (_measuring) (_foreign ??= []).Add(bytes = serializer.ToBinary(value));
        else bytes = _foreign![_foreignNext++];
        Bytes(bytes);
    }
}

/// <summary>Reads what <see cref="FieldWriter"/> wrote; any read past the end, or a length that does not fit, is a <see cref="SerializationException"/>.</summary>
/// <param name="serialization">Akka's serialization, needed only by <see cref="Payload"/>.</param>
internal ref struct FieldReader(ReadOnlySpan<byte> buffer, string what, Akka.Serialization.Serialization? serialization = null)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private readonly Akka.Serialization.Serialization? _serialization = serialization;
    private int _position;

    public readonly int Remaining => _buffer.Length - _position;

    public byte Byte() => Take(1)[0];

    public bool Bool() => Byte() switch
    {
        0 => false,
        1 => true,
        var b => throw Corrupt($"boolean byte {b}"),
    };

    public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public double Double() => BitConverter.Int64BitsToDouble(Int64());

    public ReadOnlySpan<byte> BytesSpan() => Take(Length());

    public byte[] Bytes()
    {
        var span = BytesSpan();
        return span.IsEmpty ? [] : span.ToArray();
    }

    public string String() => Encoding.UTF8.GetString(BytesSpan());

    /// <summary>What <see cref="FieldWriter.Payload"/> wrote, through the serializer its id names.</summary>
    public object Payload()
    {
        var (serializerId, manifest) = (Int32(), String());
        var bytes = BytesSpan();
        var serialization = _serialization ?? throw new InvalidOperationException("reading a payload needs Akka's serialization");
        return ManifestTable.TryGet(serializerId, out var table)
            ? table.Decode(bytes, manifest, serialization)
            : serialization.Deserialize(bytes.ToArray(), serializerId, manifest);
    }

    /// <summary>A count of items each at least <paramref name="itemBytesMin"/> long, checked against what is left so garbage cannot allocate.</summary>
    public int Count(int itemBytesMin)
    {
        var count = Int32();
        if (count < 0 || (long)count * itemBytesMin > Remaining) throw Corrupt($"count {count} with {Remaining} bytes left");
        return count;
    }

    public ReadOnlySpan<byte> Take(int length)
    {
        if (length > Remaining) throw Corrupt($"needs {length} more bytes at offset {_position}, has {Remaining}");
        var span = _buffer.Slice(_position, length);
        _position += length;
        return span;
    }

    public readonly void End()
    {
        if (Remaining != 0) throw Corrupt($"{Remaining} trailing bytes");
    }

    public readonly SerializationException Corrupt(string detail) => new($"cannot deserialize {what}: {detail}");

    private int Length()
    {
        var length = Int32();
        if (length < 0 || length > Remaining) throw Corrupt($"length {length} with {Remaining} bytes left");
        return length;
    }
}

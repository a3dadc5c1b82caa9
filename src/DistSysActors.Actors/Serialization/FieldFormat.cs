using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;

namespace DistSysActors.Actors.Serialization;

/// <summary>
/// Writes little-endian fields and length-prefixed byte strings into one exactly sized array. An encoder runs twice
/// over the same code: first with a measuring writer (no buffer) to learn the size, then into the result array, so a
/// message costs one allocation and each entry's data is copied once.
/// </summary>
internal ref struct FieldWriter
{
    private readonly Span<byte> _buffer;
    private readonly bool _measuring;

    private FieldWriter(Span<byte> buffer, bool measuring)
    {
        _buffer = buffer;
        _measuring = measuring;
        Position = 0;
    }

    public int Position { get; private set; }

    public readonly bool IsMeasuring => _measuring;

    public static FieldWriter Measuring() => new(default, measuring: true);

    public static FieldWriter Into(Span<byte> buffer) => new(buffer, measuring: false);

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

    /// <summary>Reserves <paramref name="length"/> bytes the caller fills (null while measuring).</summary>
    public Span<byte> Reserve(int length)
    {
        var span = _measuring ? default : _buffer.Slice(Position, length);
        Position += length;
        return span;
    }
}

/// <summary>Reads what <see cref="FieldWriter"/> wrote; any read past the end, or a length that does not fit, is a <see cref="SerializationException"/>.</summary>
internal ref struct FieldReader(ReadOnlySpan<byte> buffer, string what)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
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

    public ReadOnlySpan<byte> BytesSpan() => Take(Length());

    public byte[] Bytes()
    {
        var span = BytesSpan();
        return span.IsEmpty ? [] : span.ToArray();
    }

    public string String() => Encoding.UTF8.GetString(BytesSpan());

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

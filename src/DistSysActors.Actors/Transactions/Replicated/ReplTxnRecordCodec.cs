using Akka.Actor;
using DistSysActors.Core.Transactions.Replicated;
using static DistSysActors.Core.Transactions.Replicated.ReplTxn;

namespace DistSysActors.Actors.Transactions.Replicated;

/// <summary>A role Ready's records as one Raft entry: a <see cref="RecordBatch"/> through <see cref="ReplTxnSerializer"/>.</summary>
public sealed class ReplTxnRecordCodec(ActorSystem system) : ITxnRecordCodec
{
    private readonly Akka.Serialization.Serialization _serialization = system.Serialization;

    public byte[] Encode(IReadOnlyList<object> records) => _serialization.FindSerializerForType(typeof(RecordBatch)).ToBinary(new RecordBatch([.. records]));

    public IReadOnlyList<object> Decode(byte[] data) => ((RecordBatch)_serialization.Deserialize(data, ReplTxnSerializer.Id, "RB")).Records;
}

namespace DistSysActors.Core.Transactions.Replicated;

/// <summary>
/// Turns a role's durable records (one Ready's writes) into the data of one Raft entry and back. The actor host encodes
/// them with the transactions' binary serializer; the simulator, which never leaves the process, may keep them by reference.
/// </summary>
public interface ITxnRecordCodec
{
    byte[] Encode(IReadOnlyList<object> records);

    IReadOnlyList<object> Decode(byte[] data);
}

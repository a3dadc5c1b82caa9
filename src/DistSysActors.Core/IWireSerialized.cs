namespace DistSysActors.Core;

/// <summary>
/// Marks a type whose values leave the process: sent between nodes through the network component, or written to a
/// journal or snapshot store. Every concrete such type needs a binary serializer binding in the reference
/// configuration; a test finds them all by this marker and fails for any that would fall back to JSON.
/// </summary>
public interface IWireSerialized;

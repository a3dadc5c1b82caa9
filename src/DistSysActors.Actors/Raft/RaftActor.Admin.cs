namespace DistSysActors.Actors.Raft;

public sealed partial class RaftActor
{
    private partial bool OnAdminCommand(object message) => false;
}

using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Raft;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core.Raft;
using Microsoft.Data.Sqlite;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>
/// A SQLite journal written while Raft events were bound to Akka's JSON serializer still recovers once they are bound to
/// the binary one: the journal stores each event's serializer id, so old JSON rows and new binary rows mix.
/// </summary>
public sealed class RaftJournalCompatibilitySpec : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"raft-journal-compat-{Guid.NewGuid():N}");
    private string Database => Path.Combine(_dir, "journal.db");

    private static readonly RaftHardStateSaved OldHardState = new(3, 2, 5);
    private static readonly RaftEntriesSaved OldEntries = new(4, [new RaftEntryRecord(4, 3, EntryType.Normal, [1, 2, 3]), new RaftEntryRecord(5, 3, EntryType.NoOp, [])]);
    private static readonly RaftStateSnapshot OldSnapshot = new(OldHardState, 3, 2, [1, 2, 3], [4], [9, 9, 9], []);
    private static readonly RaftEntriesSaved NewEntries = new(6, [new RaftEntryRecord(6, 4, EntryType.Normal, [7])]);

    [Fact]
    public async Task Json_events_and_snapshots_recover_beside_binary_ones()
    {
        // Before: events and snapshots bound to JSON, as the reference configuration had them.
        await using (var before = await StartAsync("""
            akka.actor.serialization-bindings {
              "DistSysActors.Actors.Raft.RaftEvent, DistSysActors.Actors" = json
              "DistSysActors.Actors.Raft.RaftStateSnapshot, DistSysActors.Actors" = json
            }
            """))
        {
            await before.Ask(OldHardState);
            await before.Ask(new TakeSnapshot(OldSnapshot));
            await before.Ask(OldEntries);
        }
        // After: the reference bindings (binary); recovery reads the JSON rows, and new rows are binary.
        await using (var after = await StartAsync(""))
        {
            var recovered = await after.Ask(Recovered.Instance);
            Assert.Equal(Describe([OldSnapshot, OldEntries]), Describe(recovered));
            await after.Ask(NewEntries);
        }
        await using (var again = await StartAsync(""))
            Assert.Equal(Describe([OldSnapshot, OldEntries, NewEntries]), Describe(await again.Ask(Recovered.Instance)));
        Assert.Equal([1, 1, RaftSerializer.Id], SerializerIds("SELECT identifier FROM journal ORDER BY sequence_number"));
        Assert.Equal([1], SerializerIds("SELECT serializer_id FROM snapshot"));
    }

    private long[] SerializerIds(string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Database }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read()) ids.Add(reader.GetInt64(0));
        return ids.ToArray();
    }

    private static string Describe(IEnumerable<object> values) => string.Join(" | ", values.Select(v => v switch
    {
        RaftEntriesSaved e => $"entries from {e.FromIndex}: " + string.Join(",", e.Entries.Select(r => $"{r.Index}/{r.Term}/{r.Type}/{Convert.ToHexString(r.Data)}")),
        RaftStateSnapshot s => $"snapshot {s.HardState} {s.SnapshotIndex}@{s.SnapshotTerm} [{string.Join(",", s.Voters)}] [{string.Join(",", s.Learners)}] {Convert.ToHexString(s.Data)} {s.Tail.Length}",
        _ => v.ToString(),
    }));

    private async Task<Journaled> StartAsync(string overrides)
    {
        var config = ConfigurationFactory.ParseString(overrides)
            .WithFallback(SqlitePersistence.Prepare(Database))
            .WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING"))
            .WithFallback(DistSysConfig.Reference);
        var system = ActorSystem.Create("compat", config);
        var actor = system.ActorOf(Props.Create(() => new JournalingActor()));
        var journaled = new Journaled(system, actor);
        await journaled.Ask(Recovered.Instance);
        return journaled;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private sealed record Journaled(ActorSystem System, IActorRef Actor) : IAsyncDisposable
    {
        public async Task<IReadOnlyList<object>> Ask(object command) =>
            await Actor.Ask<IReadOnlyList<object>>(command, TimeSpan.FromSeconds(60));

        public async ValueTask DisposeAsync() => await System.Terminate();
    }

    private sealed record TakeSnapshot(RaftStateSnapshot Snapshot);

    private sealed record Recovered
    {
        public static readonly Recovered Instance = new();
    }

    /// <summary>Persists what it is sent, saves snapshots on request, and answers with everything recovered and written since.</summary>
    private sealed class JournalingActor : UntypedPersistentActor
    {
        private readonly List<object> _seen = new();
        private IActorRef? _snapshotRequester;

        public override string PersistenceId => "raft-node-compat";

        protected override void OnRecover(object message)
        {
            switch (message)
            {
                case SnapshotOffer offer: _seen.Add(offer.Snapshot); break;
                case RaftEvent e: _seen.Add(e); break;
            }
        }

        protected override void OnCommand(object message)
        {
            switch (message)
            {
                case Recovered: Sender.Tell(_seen.ToList()); break;
                case RaftEvent e:
                    Persist(e, persisted => { _seen.Add(persisted); Sender.Tell(_seen.ToList()); });
                    break;
                case TakeSnapshot t:
                    _snapshotRequester = Sender;
                    _seen.Clear();
                    _seen.Add(t.Snapshot);
                    SaveSnapshot(t.Snapshot);
                    break;
                case SaveSnapshotSuccess: _snapshotRequester?.Tell(_seen.ToList()); break;
                case SaveSnapshotFailure f: throw f.Cause;
            }
        }
    }
}

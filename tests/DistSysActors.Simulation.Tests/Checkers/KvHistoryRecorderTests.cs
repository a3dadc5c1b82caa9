using DistSysActors.Simulation.Checkers;

namespace DistSysActors.Simulation.Tests.Checkers;

public class KvHistoryRecorderTests
{
    [Fact]
    public void Pending_operations_enter_the_history_with_an_unknown_outcome()
    {
        var recorder = new KvHistoryRecorder();
        var put = recorder.Call(1, KvInput.Put("k", "a"), 0);
        var lost = recorder.Call(2, KvInput.Put("k", "b"), 5);
        var get = recorder.Call(3, KvInput.Get("k"), 20);
        recorder.Return(put, KvOutput.Ack, 10);
        recorder.Return(get, KvOutput.Read("b"), 30);

        var history = recorder.History();
        Assert.Equal(1, recorder.PendingCount);
        Assert.True(history[lost].OutcomeUnknown);
        Assert.Equal(long.MaxValue, history[lost].EffectiveReturnMs);
        Assert.Equal(new KvOperation(3, KvInput.Get("k"), 20, 30, KvOutput.Read("b")), history[get]);
        Assert.True(recorder.Check().Ok);
    }

    [Fact]
    public void A_result_is_recorded_once_and_not_before_its_call()
    {
        var recorder = new KvHistoryRecorder();
        var id = recorder.Call(1, KvInput.Get("k"), 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => recorder.Return(id, KvOutput.Read(null), 9));
        recorder.Return(id, KvOutput.Read(null), 11);
        Assert.Throws<InvalidOperationException>(() => recorder.Return(id, KvOutput.Read(null), 12));
    }

    [Fact]
    public void A_stale_read_recorded_through_the_recorder_fails_the_check()
    {
        var recorder = new KvHistoryRecorder();
        recorder.Return(recorder.Call(1, KvInput.Put("k", "a"), 0), KvOutput.Ack, 1);
        recorder.Return(recorder.Call(1, KvInput.Put("k", "b"), 2), KvOutput.Ack, 3);
        recorder.Return(recorder.Call(2, KvInput.Get("k"), 4), KvOutput.Read("a"), 5);
        var result = recorder.Check();
        Assert.Equal(CheckOutcome.Illegal, result.Outcome);
        Assert.Equal("k", result.Key);
    }
}

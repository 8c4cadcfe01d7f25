using Ovis.Training;

namespace Ovis.Tests.Training;

public class AlphaScheduleTests
{
    [Fact]
    public void LogWarmupFromPointNineNineHalvesLogOneMinusAlphaAtMidPeriod()
    {
        var schedule = new AlphaSchedule(AlphaEnd: 0, AlphaInit: 0.99, Period: 1_000_000, Mode: WarmupMode.Log);
        Assert.Equal(0.99, schedule.At(0), 12);
        Assert.Equal(0.90, schedule.At(500_000), 12);
        Assert.Equal(0.0, schedule.At(1_000_000), 12);
        Assert.Equal(0.0, schedule.At(3_000_000), 12);
        // 1 − α moves geometrically: at a quarter, 0.01^{3/4}
        Assert.Equal(1 - Math.Pow(0.01, 0.75), schedule.At(250_000), 12);
        Assert.True(schedule.At(100) < schedule.At(99));
    }

    [Fact]
    public void LogWarmupToANonZeroEndInterpolatesLogOneMinusAlpha()
    {
        var schedule = new AlphaSchedule(AlphaEnd: 0.7, AlphaInit: 0.99, Period: 100, Mode: WarmupMode.Log);
        Assert.Equal(1 - Math.Sqrt(0.01 * 0.3), schedule.At(50), 12);
        Assert.Equal(0.7, schedule.At(100), 12);
    }

    [Fact]
    public void LinearWarmupIsLinearInAlpha()
    {
        var schedule = new AlphaSchedule(AlphaEnd: 0, AlphaInit: 0.99, Period: 1000, Mode: WarmupMode.Linear);
        Assert.Equal(0.99, schedule.At(0), 12);
        Assert.Equal(0.495, schedule.At(500), 12);
        Assert.Equal(0.0, schedule.At(1000), 12);
    }

    [Fact]
    public void WithoutWarmupAlphaIsConstant()
    {
        var schedule = new AlphaSchedule(AlphaEnd: 0.7, AlphaInit: 0.99, Period: 0);
        Assert.Equal(0.7, schedule.At(0));
        Assert.Equal(0.7, schedule.At(123456));
    }

    [Fact]
    public void InvalidSchedulesAreRejectedWithTheOptionName()
    {
        Assert.Contains("--alpha", Assert.Throws<ArgumentException>(() => new AlphaSchedule(AlphaEnd: 1).Validate()).Message);
        Assert.Contains("--alpha-init", Assert.Throws<ArgumentException>(() => new AlphaSchedule(AlphaInit: -0.1, Period: 10).Validate()).Message);
        Assert.Contains("--warmup", Assert.Throws<ArgumentException>(() => new AlphaSchedule(Period: -1).Validate()).Message);
        Assert.Contains("--warmup-mode", Assert.Throws<ArgumentException>(() => AlphaSchedule.ParseMode("sigmoid")).Message);
    }

    [Fact]
    public void LearningRateIsReducedAtEachListedStep()
    {
        var schedule = new LearningRateSchedule(1e-3, new long[] { 100, 300 }, 0.5);
        Assert.Equal(1e-3, schedule.At(0));
        Assert.Equal(1e-3, schedule.At(99));
        Assert.Equal(5e-4, schedule.At(100), 15);
        Assert.Equal(2.5e-4, schedule.At(1000), 15);
        Assert.Equal(1e-3, new LearningRateSchedule(1e-3, Array.Empty<long>()).At(5000));
    }
}

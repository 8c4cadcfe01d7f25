using Ovis.Reporting;
using Xunit;

namespace Ovis.Tests.Reporting;

public class LogAxisTicksTests
{
    [Fact]
    public void A_span_of_more_than_two_and_a_half_decades_gets_one_tick_per_decade()
    {
        // K from 10 to 50,000 (the chunked efficiency study): 1-2-5 ticks would put twelve labels on the axis.
        Assert.Equal(new[] { 10.0, 100, 1000, 10000 }, LogAxisTicks.Values(1, Math.Log10(50000)));
    }

    [Fact]
    public void A_span_of_about_one_decade_gets_one_two_five_ticks()
    {
        Assert.Equal(new[] { 200.0, 500, 1000, 2000 }, LogAxisTicks.Values(Math.Log10(190), Math.Log10(2750)));
    }

    [Fact]
    public void A_span_shorter_than_one_step_of_one_to_nine_labels_its_ends()
    {
        var ticks = LogAxisTicks.Values(Math.Log10(1.1), Math.Log10(1.5));
        Assert.Equal(2, ticks.Length);
        Assert.Equal(1.1, ticks[0], 12);
        Assert.Equal(1.5, ticks[1], 12);
    }

    [Theory]
    [InlineData(5000, "5,000")]
    [InlineData(50000, "50,000")]
    [InlineData(10, "10")]
    [InlineData(0.05, "0.05")]
    [InlineData(2.5, "2.5")]
    [InlineData(1234.5, "1.23E+03")]
    public void Whole_numbers_get_thousands_separators_and_others_three_significant_digits(double value, string label)
    {
        Assert.Equal(label, LogAxisTicks.Label(value));
    }
}

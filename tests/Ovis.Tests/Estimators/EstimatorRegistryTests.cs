using Ovis.Estimators;

namespace Ovis.Tests.Estimators;

public class EstimatorRegistryTests
{
    [Theory]
    [InlineData("reinforce", typeof(Reinforce))]
    [InlineData("vimco-arithmetic", typeof(Vimco))]
    [InlineData("vimco-geometric", typeof(Vimco))]
    [InlineData("ovis-gamma1", typeof(OvisAsymptotic))]
    [InlineData("ovis-gamma0.5-geometric", typeof(OvisAsymptotic))]
    [InlineData("ovis-gamma1-reference", typeof(OvisAsymptotic))]
    [InlineData("ovis-S10-exclusive", typeof(OvisMonteCarlo))]
    [InlineData("ovis-S3", typeof(OvisMonteCarlo))]
    [InlineData("ovis-S0.3K", typeof(OvisMonteCarlo))]
    public void ParsesEveryForm(string id, Type type)
    {
        var estimator = EstimatorRegistry.Create(id);
        Assert.IsType(type, estimator);
        Assert.Equal(id, estimator.Id);
    }

    [Fact]
    public void SIsAnAbsoluteCountAsInThePaper()
    {
        var exclusive = (OvisMonteCarlo)EstimatorRegistry.Create("ovis-S10-exclusive");
        Assert.Equal(10, exclusive.AuxiliaryCount(1000));
        Assert.Equal(1010, exclusive.ParticlesPerDraw(1000));
        var budget = (OvisMonteCarlo)EstimatorRegistry.Create("ovis-S0.3K");
        Assert.Equal(15, budget.AuxiliaryCount(50));
        Assert.Equal(1, budget.AuxiliaryCount(3));     // max(1, ⌊0.9⌋)
        Assert.Equal(50, budget.ParticlesPerDraw(50)); // taken out of the budget
        Assert.Equal((35, 50), budget.TargetParticles(50));
    }

    [Theory]
    [InlineData("vimco")]
    [InlineData("ovis")]
    [InlineData("ovis-gamma")]
    [InlineData("OVIS-gamma1")]
    [InlineData("ovis-gamma1-extra")]
    [InlineData("reinforce2")]
    [InlineData("")]
    public void RejectsUnknownIdsListingTheValidForms(string id)
    {
        var error = Assert.Throws<EstimatorIdException>(() => EstimatorRegistry.Create(id));
        Assert.Contains("unknown estimator id", error.Message);
        Assert.Contains("ovis-gamma{γ}", error.Message);
        Assert.Contains("vimco-arithmetic", error.Message);
    }

    [Theory]
    [InlineData("ovis-gamma1.5", "γ")]
    [InlineData("ovis-S0", "S ≥ 1")]
    [InlineData("ovis-S1.5K", "(0, 1)")]
    [InlineData("ovis-S99999999999", "whole number")]
    public void RejectsMalformedValuesSayingWhy(string id, string reason)
    {
        var error = Assert.Throws<EstimatorIdException>(() => EstimatorRegistry.Create(id));
        Assert.Contains("malformed", error.Message);
        Assert.Contains(reason, error.Message);
        Assert.Contains("Valid forms", error.Message);
    }

    [Fact]
    public void ParsesLists()
    {
        var list = EstimatorRegistry.CreateMany("reinforce, ovis-gamma1 ,vimco-geometric");
        Assert.Equal(new[] { "reinforce", "ovis-gamma1", "vimco-geometric" }, list.Select(e => e.Id));
    }
}

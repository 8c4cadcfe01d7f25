using Ovis.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

/// <summary>
/// A model Ovis does not ship: a mixture of C product-Bernoulli components over binary vectors x ∈ {0,1}^D.
/// p_θ(z = c) = softmax(π)_c, p_θ(x|z = c) = Π_d Bern(x_d; sigmoid(η_cd)), q_φ(z|x) = softmax(W x + b).
/// One latent layer holding z as a one-hot vector [C]; C configurations, so the exact oracle can enumerate it.
/// </summary>
sealed class BernoulliMixture : LatentVariableModel, IEnumerableLatents
{
    private readonly Parameter priorLogits;       // π, θ, [C]
    private readonly Parameter componentLogits;   // η, θ, [C, D]
    private readonly Linear encoder;              // W [C, D], b [C], φ

    public BernoulliMixture(int components, int dimension, ScalarType dtype, Generator generator) : base("bernoulli_mixture")
    {
        priorLogits = new Parameter(zeros(components, dtype: dtype));
        componentLogits = new Parameter(randn(new long[] { components, dimension }, dtype: dtype, generator: generator));
        encoder = nn.Linear(dimension, components, dtype: dtype);
        RegisterComponents();
    }

    public override int LatentLayers => 1;
    public override bool CanReparameterize => false;
    public override IReadOnlyList<Parameter> GenerativeParameters() => new[] { priorLogits, componentLogits };
    public override IReadOnlyList<Parameter> InferenceParameters() => encoder.parameters().ToArray();

    private Tensor PosteriorLogProbabilities(Tensor x, bool detach)                         // [B, C]
    {
        var logits = detach ? nn.functional.linear(x, encoder.weight!.detach(), encoder.bias!.detach()) : encoder.forward(x);
        return logits.log_softmax(-1);
    }

    public override IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options)
    {
        using var noGrad = no_grad();
        var probabilities = PosteriorLogProbabilities(x, detach: true).exp();               // [B, C]
        var index = multinomial(probabilities, particles, replacement: true, generator: options.Generator);   // [B, P]
        return new[] { nn.functional.one_hot(index, priorLogits.shape[0]).to(priorLogits.dtype) };              // [B, P, C]
    }

    public override ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detachPosteriorParameters = false)
    {
        var z = latents[0];                                                                  // [B, P, C]
        var logPrior = (z * priorLogits.log_softmax(-1)).sum(-1);                            // [B, P]
        var logPosterior = (z * PosteriorLogProbabilities(x, detachPosteriorParameters).unsqueeze(1)).sum(-1);  // [B, P]
        var perComponent = LogDensity.BernoulliSum(x.unsqueeze(1), componentLogits.expand(x.shape[0], -1, -1));    // [B, C]
        var logLikelihood = (z * perComponent.unsqueeze(1)).sum(-1);                         // [B, P]
        return new ParticleLogDensities(logLikelihood, logPrior.unsqueeze(-1), logPosterior.unsqueeze(-1), latents);
    }

    /// <summary>Draw x from the model itself: z ~ p(z), x ~ p(x|z), [N, D].</summary>
    public Tensor SampleData(int count, Generator generator)
    {
        using var noGrad = no_grad();
        var z = multinomial(priorLogits.softmax(-1), count, replacement: true, generator: generator);   // [N]
        return bernoulli(componentLogits.index_select(0, z).sigmoid(), generator: generator);           // [N, D]
    }

    public IReadOnlyList<Tensor> EnumerateConfigurations() => new[] { eye(priorLogits.shape[0], dtype: priorLogits.dtype) };
}

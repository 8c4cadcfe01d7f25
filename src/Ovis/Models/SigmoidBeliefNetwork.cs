using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// Sigmoid belief network with linear links (docs/experiments.md §2.3, the TVO paper's "linear" architecture): L
/// stochastic layers of Bernoulli units, layer 0 at the top and layer L − 1 next to x.
/// <list type="bullet">
/// <item>p(z_0) = Bern(sigmoid(ψ)); p(z_l|z_{l−1}) = Bern(sigmoid(W_l(2z_{l−1} − 1) + c_l)); p(x|z_{L−1}) likewise.</item>
/// <item>q(z_{L−1}|x) = Bern(sigmoid(V((x − x̄ + 1)/2) + e)); q(z_l|z_{l+1}) = Bern(sigmoid(V_l(2z_{l+1} − 1) + e_l)).</item>
/// </list>
/// The first inference layer depends only on x and is computed once per data point, not once per particle.
/// Small instances (a few units) enumerate their latents exactly (<see cref="IEnumerableLatents"/>).
/// </summary>
public sealed class SigmoidBeliefNetwork : LatentVariableModel, IEnumerableLatents, IGenerativeSampler, IBernoulliImageModel
{
    private readonly int[] layerSizes;
    private readonly int observedSize;
    private readonly Parameter priorLogits;
    private readonly ModuleList<Linear> generativeLinks;   // W_1..W_{L−1}, then the output layer
    private readonly ModuleList<Linear> inferenceLinks;    // V (from x), then V_{L−2}..V_0 (from the layer below)
    private readonly Tensor dataMean;                      // x̄, [D_x]

    /// <summary>Create the network.</summary>
    /// <param name="observedSize">D_x, the number of binary observed units.</param>
    /// <param name="layerSizes">units per stochastic layer, top (layer 0) first.</param>
    /// <param name="dataMean">x̄ per observed unit, used to centre q's input and to initialise the output bias to
    /// logit(clamp(x̄, 1e−4, 1 − 1e−4)); null means 0.5 everywhere (no data-dependent initialisation).</param>
    /// <param name="dtype">parameter dtype (float64 for the exact oracle).</param>
    public SigmoidBeliefNetwork(int observedSize, IReadOnlyList<int> layerSizes, Tensor? dataMean = null, ScalarType dtype = ScalarType.Float32)
        : base("sigmoid_belief_network")
    {
        if (layerSizes.Count == 0 || layerSizes.Any(s => s <= 0) || observedSize <= 0)
            throw new ArgumentException("a sigmoid belief network needs at least one stochastic layer and positive sizes");
        this.layerSizes = layerSizes.ToArray();
        this.observedSize = observedSize;
        int depth = this.layerSizes.Length;

        priorLogits = new Parameter(zeros(this.layerSizes[0], dtype: dtype));
        var generative = new List<Linear>();
        for (int l = 1; l < depth; l++) generative.Add(nn.Linear(this.layerSizes[l - 1], this.layerSizes[l], dtype: dtype));
        generative.Add(nn.Linear(this.layerSizes[depth - 1], observedSize, dtype: dtype));
        generativeLinks = new ModuleList<Linear>(generative.ToArray());

        var inference = new List<Linear> { nn.Linear(observedSize, this.layerSizes[depth - 1], dtype: dtype) };
        for (int l = depth - 2; l >= 0; l--) inference.Add(nn.Linear(this.layerSizes[l + 1], this.layerSizes[l], dtype: dtype));
        inferenceLinks = new ModuleList<Linear>(inference.ToArray());

        var mean = dataMean is null ? full(observedSize, 0.5, dtype: dtype) : dataMean.to(dtype).reshape(observedSize).detach().clone();
        this.dataMean = mean;
        RegisterComponents();
        if (dataMean is not null)
        {
            using var noGrad = no_grad();
            var clamped = mean.clamp(1e-4, 1 - 1e-4);
            generativeLinks[depth - 1].bias!.copy_((clamped / (1 - clamped)).log());
        }
    }

    /// <summary>
    /// The paper's network (docs/experiments.md §2.3, "linear_3"): 784 observed units and three layers of 200 Bernoulli
    /// units, with q's input centred by x̄ and the output bias initialised to logit(clamp(x̄, 1e−4, 1 − 1e−4)).
    /// </summary>
    /// <param name="dataMean">x̄, the per-pixel mean of the binarised training split, [784] (e.g. Dataset.TrainingPixelMean).</param>
    /// <param name="dtype">parameter dtype.</param>
    public static SigmoidBeliefNetwork Paper(Tensor dataMean, ScalarType dtype = ScalarType.Float32)
    {
        if (dataMean.numel() != 784)
            throw new ArgumentException($"the paper's sigmoid belief network models 784 pixels; the data mean has {dataMean.numel()} entries");
        return new SigmoidBeliefNetwork(784, new[] { 200, 200, 200 }, dataMean, dtype);
    }

    /// <summary>Units per stochastic layer, top first.</summary>
    public IReadOnlyList<int> LayerSizes => layerSizes;

    /// <inheritdoc />
    public override int LatentLayers => layerSizes.Length;

    /// <inheritdoc />
    public override bool CanReparameterize => false;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> GenerativeParameters()
        => new[] { priorLogits }.Concat(generativeLinks.SelectMany(LinkParameters)).ToArray();

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> InferenceParameters() => inferenceLinks.SelectMany(LinkParameters).ToArray();

    private static IEnumerable<Parameter> LinkParameters(Linear link) => new[] { link.weight!, link.bias! };

    private Tensor EncoderInput(Tensor x) => (x.flatten(1).to(dataMean.dtype) - dataMean + 1) / 2;   // [B, D_x]

    private static Tensor Link(Linear layer, Tensor input, bool detach)
        => detach ? nn.functional.linear(input, layer.weight!.detach(), layer.bias!.detach()) : layer.forward(input);

    private static Tensor Signed(Tensor z) => z.mul(2).sub_(1);

    /// <summary>
    /// 2z − 1 of each layer's sample [B, P, D_l], computed once per forward pass and shared by the inference link that
    /// reads the layer and the generative link that reads it (one [B·P, D_l] tensor instead of two, and no temporary).
    /// </summary>
    private sealed class SignedLatents(IReadOnlyList<Tensor> latents)
    {
        private readonly Tensor?[] cache = new Tensor?[latents.Count];

        public Tensor this[int layer] => cache[layer] ??= Signed(latents[layer]);
    }

    /// <summary>
    /// z ~ Bern(sigmoid(logits)) as 1[u &lt; sigmoid(logits)] with u ~ U[0, 1) the layer's share of the particles'
    /// uniform numbers: the same distribution as <c>torch.bernoulli</c>, whose CPU kernel draws element by element and
    /// is slower (docs/performance.md).
    /// </summary>
    private static Tensor Draw(Tensor logits, Tensor uniform)
    {
        using var noGrad = no_grad();
        using var probabilities = logits.sigmoid();                                            // freed now, not at the step's end
        return uniform.lt(probabilities).to(logits.dtype);                                     // 1[u < p], [B, P, D_l]
    }

    /// <summary>z ~ Bern(sigmoid(logits)) with a fresh uniform draw of logits' shape (prior samples, data).</summary>
    private static Tensor Draw(Tensor logits, Generator? generator)
    {
        using var noGrad = no_grad();
        return Draw(logits, rand(logits.shape, dtype: logits.dtype, device: logits.device, generator: generator));
    }

    /// <inheritdoc />
    public override bool SupportsParticleChunks => true;

    /// <inheritdoc />
    public override IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options)
        => SampleAndScore(x, particles, options).latents;

    /// <inheritdoc />
    public override ParticleLogDensities Forward(Tensor x, int particles, SamplingOptions options)
    {
        if (options.Reparameterize)
            throw new NotSupportedException("the sigmoid belief network has Bernoulli latents and cannot reparameterise its samples");
        var (latents, logPosterior, signed) = SampleAndScore(x, particles, options);
        var (logLikelihood, logPrior) = Generate(x, latents, signed, detach: false);
        return new ParticleLogDensities(logLikelihood, logPrior, logPosterior, latents);
    }

    /// <summary>Sample top-down through q while scoring each layer, sharing the logits (one pass).</summary>
    private (Tensor[] latents, Tensor logPosterior, SignedLatents signed) SampleAndScore(Tensor x, int particles, SamplingOptions options)
    {
        if (options.Reparameterize)
            throw new NotSupportedException("the sigmoid belief network has Bernoulli latents and cannot reparameterise its samples");
        int depth = layerSizes.Length;
        var latents = new Tensor[depth];
        var signed = new SignedLatents(latents);
        var logq = new Tensor[depth];
        bool detach = options.DetachPosteriorParameters;
        // First inference layer: once per data point, then expanded over the particles.
        var logits = Link(inferenceLinks[0], EncoderInput(x), detach)                          // [B, D_{L−1}]
            .unsqueeze(1).expand(-1, particles, -1);                                           // [B, P, D_{L−1}]
        // Every layer's uniform numbers in one particle-major draw, layers in sampling order (bottom layer first).
        var uniform = ParticleNoise.Uniform(x.shape[0], particles, layerSizes.Sum(), logits.dtype, logits.device, options.Generator);   // [B, P, ΣD]
        long offset = 0;
        for (int step = 0; step < depth; step++)
        {
            int layer = depth - 1 - step;
            if (step > 0) logits = Link(inferenceLinks[step], signed[layer + 1], detach);
            latents[layer] = Draw(logits, uniform.narrow(-1, offset, layerSizes[layer]));      // [B, P, D_l]
            offset += layerSizes[layer];
            logq[layer] = LogDensity.BernoulliSum(latents[layer], logits);                     // [B, P]
        }
        return (latents, stack(logq, -1), signed);                                            // [B, P, L]
    }

    /// <inheritdoc />
    public override ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detachPosteriorParameters = false)
    {
        int depth = layerSizes.Length;
        if (latents.Count != depth) throw new ArgumentException($"expected {depth} latent layers, got {latents.Count}");
        long particles = latents[0].shape[1];
        var logq = new Tensor[depth];
        var signed = new SignedLatents(latents);
        var logits = Link(inferenceLinks[0], EncoderInput(x), detachPosteriorParameters).unsqueeze(1).expand(-1, particles, -1);
        for (int step = 0; step < depth; step++)
        {
            int layer = depth - 1 - step;
            if (step > 0) logits = Link(inferenceLinks[step], signed[layer + 1], detachPosteriorParameters);
            logq[layer] = LogDensity.BernoulliSum(latents[layer], logits);
        }
        var (logLikelihood, logPrior) = Generate(x, latents, signed, detach: false);
        return new ParticleLogDensities(logLikelihood, logPrior, stack(logq, -1), latents);
    }

    /// <summary>log p(x|z) [B, P] and per-layer log p(z_l) [B, P, L] along the generative chain.</summary>
    private (Tensor logLikelihood, Tensor logPrior) Generate(Tensor x, IReadOnlyList<Tensor> latents, SignedLatents signed, bool detach)
    {
        int depth = layerSizes.Length;
        var logp = new Tensor[depth];
        logp[0] = LogDensity.BernoulliSum(latents[0], priorLogits.expand_as(latents[0]));
        for (int l = 1; l < depth; l++)
            logp[l] = LogDensity.BernoulliSum(latents[l], Link(generativeLinks[l - 1], signed[l - 1], detach));
        var outputLogits = Link(generativeLinks[depth - 1], signed[depth - 1], detach);         // [B, P, D_x]
        var observed = x.flatten(1).to(outputLogits.dtype).unsqueeze(1);                        // [B, 1, D_x]
        var logLikelihood = LogDensity.BernoulliSum(observed, outputLogits);                     // [B, P]
        return (logLikelihood, stack(logp, -1));
    }

    /// <inheritdoc />
    public IReadOnlyList<Tensor> EnumerateConfigurations()
    {
        int total = layerSizes.Sum();
        if (total > 20) throw new InvalidOperationException($"{total} binary latents are too many to enumerate (2^{total} configurations)");
        long count = 1L << total;
        var bits = arange(count, dtype: ScalarType.Int64).unsqueeze(1)
                   .bitwise_right_shift(arange(total, dtype: ScalarType.Int64).unsqueeze(0))
                   .bitwise_and(1).to(priorLogits.dtype);                                        // [C, Σ D_l]
        var result = new Tensor[layerSizes.Length];
        long offset = 0;
        for (int l = 0; l < layerSizes.Length; l++) { result[l] = bits.narrow(1, offset, layerSizes[l]); offset += layerSizes[l]; }
        return result;
    }

    /// <summary>Draw data points x ~ p(x) by ancestral sampling, [N, D_x] (for synthetic data and tests).</summary>
    public Tensor SampleData(int count, Generator? generator = null) => SamplePrior(count, generator).x;

    /// <inheritdoc />
    public (Tensor x, IReadOnlyList<Tensor> latents) SamplePrior(int count, Generator? generator = null)
    {
        var latents = SampleLatentPrior(count, generator);
        using var noGrad = no_grad();
        var x = Draw(OutputLogits(latents), generator);                                            // [N, D_x]
        return (x, latents);
    }

    /// <inheritdoc />
    public IReadOnlyList<Tensor> SampleLatentPrior(int count, Generator? generator = null)
    {
        if (count < 1) throw new ArgumentException($"the number of prior samples must be at least 1, got {count}");
        using var noGrad = no_grad();
        var latents = new Tensor[layerSizes.Length];
        latents[0] = Draw(priorLogits.expand(count, -1), generator);                               // [N, D_0]
        for (int l = 1; l < layerSizes.Length; l++) latents[l] = Draw(generativeLinks[l - 1].forward(Signed(latents[l - 1])), generator);
        return latents;
    }

    /// <inheritdoc />
    public Tensor ObservationProbabilities(IReadOnlyList<Tensor> latents)
    {
        if (latents.Count != layerSizes.Length) throw new ArgumentException($"expected {layerSizes.Length} latent layers, got {latents.Count}");
        using var noGrad = no_grad();
        return OutputLogits(latents).sigmoid();                                                    // [..., D_x]
    }

    /// <summary>Logits of p(x|z) from the last latent layer [..., D_{L−1}], giving [..., D_x].</summary>
    private Tensor OutputLogits(IReadOnlyList<Tensor> latents) => generativeLinks[layerSizes.Length - 1].forward(Signed(latents[^1]));
}

using System.Globalization;
using Ovis.Analysis;
using Ovis.Estimators;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

// (a) Verify estimators on a tiny instance with the exact oracle: every K-tuple of particles is enumerated in float64.
manual_seed(1);                                            // nn.Linear initialises from torch's global generator
var tiny = new BernoulliMixture(components: 3, dimension: 4, float64, new Generator(7));
var points = tensor(new double[,] { { 1, 0, 1, 1 }, { 0, 0, 1, 0 } }, dtype: float64);
var verifier = new EstimatorVerifier(new ExactOracle(tiny, points));
foreach (var id in new[] { "ovis-gamma0", "vimco-arithmetic", "ovis-S2-exclusive", "ovis-gamma1" })
{
    var result = verifier.Verify(EstimatorRegistry.Create(id), particles: 3, alpha: 0);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{id,-18} relative φ-bias {result.PhiRelativeBias:E2}  θ-bias {result.ThetaRelativeBias:E2}  ({result.Claim}: {(result.ClaimHolds == true ? "holds" : "FAILS")})"));
    if (id != "ovis-gamma1" && !(result.PhiRelativeBias <= 1e-9 && result.ThetaRelativeBias <= 1e-9))
        throw new InvalidOperationException($"{id} should be unbiased");
}

// (b) Train a 10-component mixture over 16 pixels on data from a true mixture, with two estimators.
var truth = new BernoulliMixture(10, 16, float32, new Generator(1));
var data = new MixtureData(truth);
foreach (var id in new[] { "ovis-gamma1", "vimco-arithmetic" })
{
    var directory = Path.Combine(Path.GetTempPath(), $"bernoulli-mixture-{id}");
    if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    manual_seed(2);                                        // nn.Linear initialises from torch's global generator
    var model = new BernoulliMixture(10, 16, float32, new Generator(2));
    var settings = new TrainerSettings
    {
        Particles = 10, Steps = 1200, BatchSize = 64, LearningRate = 3e-3, EvaluateEvery = 300, EvaluationParticles = 100,
        EvaluationBatchSize = 500, GradientEvery = 300, GradientSamples = 50, FinalEvaluationParticles = 0, Seed = 3,
    };
    using var trainer = new Trainer(new TrainingTask(model, data, name: "bernoulli-mixture"), EstimatorRegistry.Create(id), settings, directory);
    var summary = trainer.Run(resume: false);
    Console.WriteLine($"{id}: {summary.Status} in {summary.ElapsedSeconds:F1} s");
    foreach (var (step, metrics) in TrainingSummary.ReadRecords(Path.Combine(directory, Trainer.MetricsFile)))
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  step {step,5}  test L_100 {metrics["test:loss/L_k"],9:F4}  φ-gradient SNR {metrics["grads/snr"],7:F3}"));

    // (c) The φ-gradient SNR of the trained model, from 200 gradient draws on 100 held-out points.
    using var generator = new Generator(4);
    var heldOut = data.HeldOutBatch(100, generator);
    var statistics = new GradientCollector().Collect(model, EstimatorRegistry.Create(id), new EstimatorSettings(10), heldOut,
                                                     ParameterSelection.Inference, draws: 200, seed: 5);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  final φ-gradient SNR {statistics.MeanSnr:F3} (variance {statistics.MeanVariance:E2})"));
}

/// <summary>The training data: an endless stream from a fixed "true" mixture.</summary>
sealed class MixtureData(BernoulliMixture truth) : ITrainingData
{
    public Tensor NextBatch(int batchSize, Generator generator) => truth.SampleData(batchSize, generator);
    public Tensor HeldOutBatch(int size, Generator generator) => truth.SampleData(size, generator);
}

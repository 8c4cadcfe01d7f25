using System.Globalization;
using System.Text.RegularExpressions;

namespace Ovis.Estimators;

/// <summary>One accepted id form: a pattern, an example, what it means, and how to build the estimator.</summary>
/// <param name="Form">the form as a user writes it, e.g. <c>ovis-gamma{γ}</c>.</param>
/// <param name="Example">a concrete id of that form.</param>
/// <param name="Meaning">what the form means.</param>
/// <param name="Pattern">the full-match regular expression.</param>
/// <param name="Create">builds the estimator from the match; throws <see cref="ArgumentException"/> on bad values.</param>
public sealed record EstimatorForm(string Form, string Example, string Meaning, Regex Pattern, Func<Match, GradientEstimator> Create);

/// <summary>Thrown when an estimator id is unknown or malformed; the message lists the valid forms.</summary>
public sealed class EstimatorIdException : ArgumentException
{
    /// <summary>Create the exception.</summary>
    public EstimatorIdException(string message) : base(message) { }
}

/// <summary>
/// Parses estimator ids into typed estimators (docs/estimators.md §4; docs/estimators.md §9.9: typed options instead of substring
/// matching). Every id is matched in full against one form; nothing is guessed. Further forms can be added with
/// <see cref="Register"/>.
/// </summary>
public static class EstimatorRegistry
{
    private const string Number = @"(\d+(?:\.\d+)?|\.\d+)";
    private static readonly List<EstimatorForm> forms = new();

    static EstimatorRegistry()
    {
        Register(new("reinforce", "reinforce", "REINFORCE, c_k = 0", Exact("reinforce"), _ => new Reinforce()));
        Register(new("vimco-arithmetic", "vimco-arithmetic", "VIMCO, arithmetic leave-one-out mean", Exact("vimco-arithmetic"),
            _ => new Vimco(LeaveOneOutEstimate.Arithmetic)));
        Register(new("vimco-geometric", "vimco-geometric", "VIMCO, geometric leave-one-out mean (original VIMCO)", Exact("vimco-geometric"),
            _ => new Vimco(LeaveOneOutEstimate.Geometric)));
        Register(new("ovis-gamma{γ}[-geometric|-reference]", "ovis-gamma1",
            "OVIS~ eq. (17) with γ in [0, 1]; -geometric builds on VIMCO-geometric, -reference reproduces the reference code's formula",
            new Regex($@"^ovis-gamma{Number}(-arithmetic|-geometric|-reference)?$", RegexOptions.CultureInvariant),
            m => new OvisAsymptotic(ParseNumber(m.Groups[1].Value, "γ"), m.Groups[2].Value switch
            {
                "-geometric" => OvisAsymptoticForm.Geometric,
                "-reference" => OvisAsymptoticForm.Reference,
                _ => OvisAsymptoticForm.Arithmetic,
            })));
        Register(new("ovis-S{n}[-exclusive]", "ovis-S10-exclusive",
            "OVIS_MC eq. (12) with n auxiliary particles (an integer ≥ 1): extra particles with -exclusive, else taken out of K",
            new Regex(@"^ovis-S(\d+)(-exclusive)?$", RegexOptions.CultureInvariant),
            m => new OvisMonteCarlo(ParseCount(m.Groups[1].Value), m.Groups[2].Success ? AuxiliaryParticles.Exclusive : AuxiliaryParticles.Inclusive)));
        Register(new("ovis-S{y}K[-exclusive]", "ovis-S0.3K",
            "OVIS_MC with S = max(1, ⌊y·K⌋), y in (0, 1), taken out of the K budget (the budget analysis) or extra with -exclusive",
            new Regex($@"^ovis-S{Number}K(-exclusive)?$", RegexOptions.CultureInvariant),
            m => new OvisMonteCarlo(ParseNumber(m.Groups[1].Value, "y"), m.Groups[2].Success ? AuxiliaryParticles.Exclusive : AuxiliaryParticles.Inclusive)));
        Register(new("pathwise", "pathwise", "reparameterised gradient of mean_m L_K with the given (M, K); needs a reparameterisable model",
            Exact("pathwise"), _ => new Pathwise()));
        Register(new("pathwise-iwae", "pathwise-iwae", "reparameterised gradient of one IWAE bound over M·K particles (M := 1, K := M·K)",
            Exact("pathwise-iwae"), _ => new PathwiseIwae()));
        Register(new("pathwise-vae", "pathwise-vae", "reparameterised ELBO gradient averaged over M·K samples (K := 1, M := M·K)",
            Exact("pathwise-vae"), _ => new PathwiseVae()));
        Register(new("stl", "stl", "IWAE sticking-the-landing: pathwise with q's parameters detached in log q (biased for K > 1)",
            Exact("stl"), _ => new StickingTheLanding()));
        Register(new("dreg", "dreg", "IWAE-DReG, doubly reparameterised (hook-free; single latent layer)",
            Exact("dreg"), _ => new DoublyReparameterized()));
        Register(new("wake-wake", "wake-wake", "reweighted wake-sleep, wake-φ: φ follows Σ_k v_k ∇log q(z_k|x), θ follows ∇L_K",
            Exact("wake-wake"), _ => new WakeWake()));
        Register(new("wake-sleep", "wake-sleep", "reweighted wake-sleep, sleep-φ on B·M·K samples from p(z)p(x|z); needs a generative sampler",
            Exact("wake-sleep"), _ => new WakeSleep()));
        Register(new("tvo[-part{P}][-beta{n}][-config1|-config2][-left|-right|-trapz]", "tvo-part5-beta2",
            "thermodynamic variational objective: P intervals (default 2), λ_1 = 10^−n (default n = 10) or from K (config1/2), Riemann rule (default left)",
            new Regex(@"^tvo(?:-part(\d+))?(?:-beta(\d+))?(-config1|-config2)?(-left|-right|-trapz)?$", RegexOptions.CultureInvariant),
            m => new ThermodynamicVariationalObjective(
                m.Groups[1].Success ? ParseWhole(m.Groups[1].Value, "P") : 2,
                m.Groups[2].Success ? ParseWhole(m.Groups[2].Value, "n") : 10,
                m.Groups[3].Value switch { "-config1" => ThermodynamicSchedule.Config1, "-config2" => ThermodynamicSchedule.Config2, _ => ThermodynamicSchedule.Fixed },
                m.Groups[4].Value switch { "-right" => RiemannRule.Right, "-trapz" => RiemannRule.Trapezoid, _ => RiemannRule.Left },
                m.Value)));
        Register(new("reinforce-baseline", "reinforce-baseline",
            "REINFORCE with a learned neural baseline b_ψ(x) (tanh MLP, 64 hidden units), fitted by mean_k (b − d_k)²; train ψ with its own Adam (lr 5e-3)",
            Exact("reinforce-baseline"), _ => new ReinforceBaseline()));
    }

    private static int ParseWhole(string text, string name)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value : throw new ArgumentException($"{name} = '{text}' is not a whole number");

    /// <summary>Every accepted form, in registration order.</summary>
    public static IReadOnlyList<EstimatorForm> Forms => forms;

    /// <summary>Add a form (used by the estimator families beyond the score-function core).</summary>
    public static void Register(EstimatorForm form)
    {
        lock (forms)
        {
            if (forms.Any(f => f.Form == form.Form)) return;
            forms.Add(form);
        }
    }

    /// <summary>Parse an id into an estimator; unknown or malformed ids throw <see cref="EstimatorIdException"/>.</summary>
    public static GradientEstimator Create(string id)
    {
        var trimmed = (id ?? "").Trim();
        foreach (var form in forms)
        {
            var match = form.Pattern.Match(trimmed);
            if (!match.Success) continue;
            try { return form.Create(match); }
            catch (ArgumentException e) when (e is not EstimatorIdException)
            {
                throw new EstimatorIdException($"estimator id '{trimmed}' is malformed: {FirstLine(e.Message)}. {ValidForms()}");
            }
        }
        throw new EstimatorIdException($"unknown estimator id '{trimmed}'. {ValidForms()}");
    }

    /// <summary>Parse a comma-separated list of ids.</summary>
    public static IReadOnlyList<GradientEstimator> CreateMany(string ids)
        => ids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Create).ToArray();

    /// <summary>The sentence listing the valid forms, used in error messages.</summary>
    public static string ValidForms() => "Valid forms: " + string.Join(", ", forms.Select(f => f.Form)) + ".";

    private static Regex Exact(string id) => new($"^{Regex.Escape(id)}$", RegexOptions.CultureInvariant);

    private static double ParseNumber(string text, string name)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value : throw new ArgumentException($"{name} = '{text}' is not a number");

    private static int ParseCount(string text)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value : throw new ArgumentException($"S = '{text}' is not a whole number");

    private static string FirstLine(string message)
    {
        int cut = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        var line = (cut >= 0 ? message[..cut] : message).Split('\n')[0].Trim();
        return line.TrimEnd('.');
    }
}

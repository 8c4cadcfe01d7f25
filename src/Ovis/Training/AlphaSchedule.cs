namespace Ovis.Training;

/// <summary>How α moves from α_init to α_end during the Rényi warm-up (docs/estimators.md §5.2).</summary>
public enum WarmupMode
{
    /// <summary>linear in log(1 − α): 1 − α(t) = (1 − α_init)^{1−x} (1 − α_end)^{x} (the mode the paper uses).</summary>
    Log,
    /// <summary>linear in α: α(t) = α_init + x (α_end − α_init).</summary>
    Linear,
}

/// <summary>
/// The Rényi α warm-up schedule (docs/experiments.md §1.4, docs/estimators.md §5.2): with x = clamp((t − offset)/T, 0, 1),
/// α(t) moves from α_init at t = offset to α_end at t ≥ offset + T. With T = 0 (no warm-up) α is the constant α_end.
/// </summary>
/// <param name="AlphaEnd">α_end, the final (and, without warm-up, constant) α (<c>--alpha</c>, default 0).</param>
/// <param name="AlphaInit">α_init, the starting α (<c>--alpha-init</c>).</param>
/// <param name="Period">T in steps (<c>--warmup</c>); 0 disables the warm-up.</param>
/// <param name="Mode">log or linear interpolation.</param>
/// <param name="Offset">the step at which the warm-up starts.</param>
public sealed record AlphaSchedule(double AlphaEnd = 0, double AlphaInit = 0.9, long Period = 0, WarmupMode Mode = WarmupMode.Log, long Offset = 0)
{
    /// <summary>Throw a clear error for α outside [0, 1) or a negative period.</summary>
    public void Validate()
    {
        if (!(AlphaEnd >= 0 && AlphaEnd < 1)) throw new ArgumentException($"--alpha must lie in [0, 1), got {AlphaEnd}");
        if (Period < 0) throw new ArgumentException($"--warmup (the warm-up period in steps) must be 0 or positive, got {Period}");
        if (Period > 0 && !(AlphaInit >= 0 && AlphaInit < 1)) throw new ArgumentException($"--alpha-init must lie in [0, 1), got {AlphaInit}");
        if (Offset < 0) throw new ArgumentException($"the warm-up offset must be 0 or positive, got {Offset}");
    }

    /// <summary>α(t) at global step t (the step before its increment, docs/experiments.md §1.3).</summary>
    public double At(long step)
    {
        if (Period == 0) return AlphaEnd;
        double x = Math.Clamp((double)(step - Offset) / Period, 0, 1);
        return Mode switch
        {
            WarmupMode.Log => 1 - Math.Exp((1 - x) * Math.Log(1 - AlphaInit) + x * Math.Log(1 - AlphaEnd)),
            WarmupMode.Linear => AlphaInit + x * (AlphaEnd - AlphaInit),
            _ => throw new ArgumentException($"unknown warm-up mode {Mode}"),
        };
    }

    /// <summary>Parse <c>log</c> or <c>linear</c>.</summary>
    public static WarmupMode ParseMode(string text) => text.Trim().ToLowerInvariant() switch
    {
        "log" => WarmupMode.Log,
        "linear" => WarmupMode.Linear,
        _ => throw new ArgumentException($"--warmup-mode must be log or linear, got '{text}'"),
    };
}

/// <summary>
/// Learning-rate reduction: the base rate multiplied by <paramref name="Factor"/> once for every listed step already
/// reached (lr(t) = lr₀ · factor^{#{s ∈ steps : s ≤ t}}). An empty list keeps the rate constant (the paper's runs).
/// </summary>
/// <param name="BaseRate">lr₀.</param>
/// <param name="ReductionSteps">steps at which the rate is reduced.</param>
/// <param name="Factor">multiplier applied at each reduction, in (0, 1].</param>
public sealed record LearningRateSchedule(double BaseRate, IReadOnlyList<long> ReductionSteps, double Factor = 0.1)
{
    /// <summary>Throw a clear error for a non-positive rate or a factor outside (0, 1].</summary>
    public void Validate()
    {
        if (!(BaseRate > 0) || double.IsInfinity(BaseRate)) throw new ArgumentException($"--lr must be a positive number, got {BaseRate}");
        if (!(Factor > 0 && Factor <= 1)) throw new ArgumentException($"--lr-reduce-factor must lie in (0, 1], got {Factor}");
        if (ReductionSteps.Any(s => s <= 0)) throw new ArgumentException("--lr-reduce-at steps must be positive");
    }

    /// <summary>The learning rate at global step t.</summary>
    public double At(long step) => BaseRate * Math.Pow(Factor, ReductionSteps.Count(s => s <= step));
}

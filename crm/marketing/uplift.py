"""Uplift of a promotion: target group against the held-out control group, with 95% intervals.

Conversion: difference of two proportions with Newcombe's hybrid score interval (built from Wilson
intervals, so it behaves with zero or few converters where the Wald interval does not). Revenue per
customer: difference of means with Welch's t interval (unequal variances).
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Difference:
    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def wilson_interval(successes: int, trials: int, *, confidence: float = 0.95) -> tuple[float, float]:
    if trials <= 0:
        raise ValueError("Wilson interval needs at least one trial.")
    if not 0 <= successes <= trials:
        raise ValueError(f"Successes ({successes}) must lie between 0 and trials ({trials}).")
    z = stats.norm.ppf(0.5 + confidence / 2)
    share = successes / trials
    centre = share + z * z / (2 * trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    return (centre - spread) / denominator, (centre + spread) / denominator


def proportion_difference(
    target_successes: int,
    target_trials: int,
    control_successes: int,
    control_trials: int,
    *,
    confidence: float = 0.95,
) -> Difference:
    """Target rate minus control rate, Newcombe (1998) method 10 interval."""
    target_rate = target_successes / target_trials
    control_rate = control_successes / control_trials
    target_low, target_high = wilson_interval(target_successes, target_trials, confidence=confidence)
    control_low, control_high = wilson_interval(control_successes, control_trials, confidence=confidence)
    estimate = target_rate - control_rate
    low = estimate - math.sqrt((target_rate - target_low) ** 2 + (control_high - control_rate) ** 2)
    high = estimate + math.sqrt((target_high - target_rate) ** 2 + (control_rate - control_low) ** 2)
    return Difference(estimate, low, high)


def mean_difference(target: np.ndarray, control: np.ndarray, *, confidence: float = 0.95) -> Difference:
    """Mean of ``target`` minus mean of ``control`` with a Welch t interval."""
    target = np.asarray(target, dtype="float64")
    control = np.asarray(control, dtype="float64")
    if len(target) < 2 or len(control) < 2:
        raise ValueError("Welch interval needs at least two customers in each group.")
    estimate = float(target.mean() - control.mean())
    target_var = target.var(ddof=1) / len(target)
    control_var = control.var(ddof=1) / len(control)
    standard_error = math.sqrt(target_var + control_var)
    if standard_error == 0:
        return Difference(estimate, estimate, estimate)
    degrees = (target_var + control_var) ** 2 / (
        target_var**2 / (len(target) - 1) + control_var**2 / (len(control) - 1)
    )
    half_width = float(stats.t.ppf(0.5 + confidence / 2, degrees)) * standard_error
    return Difference(estimate, estimate - half_width, estimate + half_width)

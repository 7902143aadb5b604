"""Weekly demand forecasts per product, chosen per demand class by a backtest before the as-of date.

Why weekly: a wholesaler's daily sales are mostly zeros with a few big orders, and the decisions
(reorder, stock cover) are about weeks. Each product's weekly series (from its first sale) goes through
statsforecast's intermittent-demand models (Croston optimised, ADIDA, IMAPA, TSB) and simple
exponential smoothing, plus their mean (the combination). The products are grouped by demand class
(Syntetos-Boylan: smooth, erratic, intermittent, lumpy); a class keeps the combination unless one model
had a clearly lower WRMSSE over the last two spans of ``horizon`` weeks before the as-of date (each
fitted on the weeks before it), refitted on all the history. Combinations are hard to beat on lumpy
wholesale demand, and choosing on a single month mostly chooses noise. Daily forecasts split the
weekly ones by the shop's day-of-week profile. Intervals come from a negative binomial whose
dispersion is each product's own (variance over mean of its recent weekly sales, with its largest week
winsorised: ``dispersion_index``), widened or narrowed by one factor that makes the backtest's
intervals cover the wanted share.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable

import numpy as np
from scipy import stats

from inventory.forecasting import metrics
from inventory.forecasting.demand import DemandHistory, weekly

CANDIDATES = ("croston", "adida", "imapa", "tsb", "ses", "combined")
COMBINED_FROM = ("croston", "adida", "imapa", "ses")
# A class with fewer products than this in the backtest takes the combination: too few to choose by.
MIN_PRODUCTS_TO_CHOOSE = 20
# Backtest spans of ``horizon`` weeks before the as-of date, and how much better than the combination a
# single model must score on them to replace it for a demand class.
BACKTEST_WINDOWS = 2
SELECTION_MARGIN = 0.02
# Syntetos-Boylan cut-offs: average inter-demand interval (weeks) and squared CV of non-zero demand.
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
DEMAND_CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
DISPERSION_FACTORS = np.round(np.arange(0.5, 3.01, 0.1), 2)
# Recent weeks the dispersion is measured on, and the fewest of them (since the first sale) at which the
# largest is winsorised: in a new product's first weeks one week is too large a share of what is known
# to call it exceptional.
DISPERSION_WEEKS = 26
MIN_WEEKS_TO_WINSORISE = 8

Progress = Callable[[float, str], None]


@dataclasses.dataclass
class ForecastResult:
    product_ids: np.ndarray  # (n,)
    daily_mean: np.ndarray  # (n, horizon_days)
    daily_lower: np.ndarray
    daily_upper: np.ndarray
    weekly_mean: np.ndarray  # (n, horizon_weeks)
    dispersion: np.ndarray  # (n,) variance / mean of units, used for intervals of any bucket
    model: np.ndarray  # (n,) candidate name
    demand_class: np.ndarray  # (n,)
    backtest: dict  # per class: products and WRMSSE of every candidate and baseline; chosen; coverage
    level: int


def demand_class(weekly_units: np.ndarray, first_week: np.ndarray) -> np.ndarray:
    """Syntetos-Boylan class of each weekly series since its first sale."""
    series = metrics.since_first_sale(weekly_units, first_week)
    nonzero = (series > 0).filled(False)
    demand_weeks = nonzero.sum(axis=1)
    length = (~series.mask).sum(axis=1)
    adi = length / np.maximum(demand_weeks, 1)
    sizes = np.ma.masked_array(weekly_units, mask=~nonzero)
    mean = sizes.mean(axis=1).filled(0.0)
    std = sizes.std(axis=1).filled(0.0)
    cv2 = np.divide(std**2, mean**2, out=np.zeros_like(mean), where=mean > 0)
    intermittent = adi >= ADI_CUTOFF
    variable = cv2 >= CV2_CUTOFF
    return np.select(
        [~intermittent & ~variable, ~intermittent & variable, intermittent & ~variable],
        ["smooth", "erratic", "intermittent"],
        default="lumpy",
    )


def _models() -> dict:
    from statsforecast.models import ADIDA, IMAPA, TSB, CrostonOptimized, SimpleExponentialSmoothingOptimized

    return {
        "croston": CrostonOptimized(),
        "adida": ADIDA(),
        "imapa": IMAPA(),
        "tsb": TSB(alpha_d=0.1, alpha_p=0.1),
        # Not AutoETS("ANN"): about 20 times faster, and as good within the noise (BENCHMARKS.md).
        "ses": SimpleExponentialSmoothingOptimized(),
    }


def candidate_forecasts(
    weekly_units: np.ndarray, first_week: np.ndarray, horizon_weeks: int, progress: Progress | None = None
) -> dict[str, np.ndarray]:
    """Every candidate's weekly forecast (n, horizon_weeks), never negative."""
    models = _models()
    n = len(weekly_units)
    forecasts = {name: np.zeros((n, horizon_weeks)) for name in models}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for index in range(n):
            series = weekly_units[index, first_week[index] :]
            for name, model in models.items():
                if len(series) < 2 or not series.any():
                    forecasts[name][index] = series.mean() if len(series) else 0.0
                    continue
                try:
                    forecasts[name][index] = model.forecast(y=series, h=horizon_weeks)["mean"]
                except Exception:  # statsforecast raises many kinds on degenerate series
                    # The fallback is the 13-week mean: never worse than a rule of thumb.
                    forecasts[name][index] = series[-13:].mean()
            if progress and index % 500 == 0:
                progress(index / n, f"{index:,} of {n:,} products")
    forecasts = {name: np.clip(np.nan_to_num(values), 0, None) for name, values in forecasts.items()}
    forecasts["combined"] = np.mean([forecasts[name] for name in COMBINED_FROM], axis=0)
    return forecasts


def dispersion_index(
    weekly_units: np.ndarray, first_week: np.ndarray, recent_weeks: int = DISPERSION_WEEKS
) -> np.ndarray:
    """Variance over mean of each product's recent weekly units (at least 1: Poisson), with the largest
    week winsorised (lowered to the second largest).

    Why: a single exceptional order (a one-off bulk buy) is most of a product's variance. Its squared
    distance from the mean counts in full, so one such week can raise the dispersion a hundredfold and
    with it the upper end of every interval and the safety stock, for a size of order the product may
    never see again. Winsorising the largest week keeps the week (a sale did happen, at least as large
    as any other) but not its excess, and leaves a series without such a week almost as it was: the
    largest and the second largest of a steady seller are close. What this takes from the spread of
    every product alike, the calibration factor of the backtest (which measures the coverage of
    intervals built from this same index) gives back, so it is the exceptional weeks alone that stop
    counting.
    """
    series = metrics.since_first_sale(weekly_units, first_week)[:, -recent_weeks:]
    series = _winsorise_largest_week(series)
    mean = series.mean(axis=1).filled(0.0)
    var = series.var(axis=1).filled(0.0)
    return np.maximum(1.0, np.divide(var, mean, out=np.ones_like(mean), where=mean > 0))


def fitting_series(weekly_units: np.ndarray, first_week: np.ndarray) -> np.ndarray:
    """The weekly series the models are fitted on: each product's largest week since its first sale
    lowered to the second largest (as for the dispersion), so one bulk order does not lift the level
    the models carry forward."""
    series = metrics.since_first_sale(weekly_units, first_week)
    return np.where(np.ma.getmaskarray(series), weekly_units, _winsorise_largest_week(series).data)


def _winsorise_largest_week(series: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """Each row's largest value lowered to its second largest, in rows of at least
    ``MIN_WEEKS_TO_WINSORISE`` unmasked weeks."""
    values = series.filled(-np.inf).astype(float)
    weeks = (~np.ma.getmaskarray(series)).sum(axis=1)
    if values.shape[1] < 2:
        return series
    second = np.partition(values, -2, axis=1)[:, -2]
    cap = np.where(weeks >= MIN_WEEKS_TO_WINSORISE, second, np.inf)
    return np.ma.masked_array(np.minimum(series.data, cap[:, None]), mask=np.ma.getmaskarray(series))


def interval(mean: np.ndarray, dispersion: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level``% interval of a negative binomial with this mean and variance = mean x dispersion
    (a Poisson where the dispersion is 1)."""
    mean = np.asarray(mean, dtype=float)
    dispersion = np.broadcast_to(np.maximum(np.asarray(dispersion, dtype=float), 1.0 + 1e-6), mean.shape)
    tail = (1 - level / 100) / 2
    # nbinom(n, p): mean = n(1-p)/p, variance = mean/p  ->  p = 1/dispersion.
    p = 1.0 / dispersion
    n = np.maximum(mean * p / (1 - p), 1e-9)
    lower = stats.nbinom.ppf(tail, n, p)
    upper = stats.nbinom.ppf(1 - tail, n, p)
    zero = mean <= 0
    return np.where(zero, 0.0, lower), np.where(zero, 0.0, upper)


def weekday_profile(daily_units: np.ndarray, weeks: int = 13) -> np.ndarray:
    """Share of a week's units sold on each of the 7 days after the as-of date (the shop as a whole,
    so that a product with few sales still gets the shop's trading days)."""
    recent = daily_units[:, -weeks * 7 :].sum(axis=0).reshape(weeks, 7).sum(axis=0)
    if recent.sum() <= 0:
        return np.full(7, 1 / 7)
    # Column j of ``recent`` has the weekday of as_of + j: the window ends the day before as_of.
    return recent / recent.sum()


@dataclasses.dataclass
class _Window:
    forecasts: dict[str, np.ndarray]
    actual: np.ndarray
    scale: np.ndarray
    weight: np.ndarray
    classes: np.ndarray
    dispersion: np.ndarray


def _backtest_window(
    weekly_units: np.ndarray,
    first_week: np.ndarray,
    weekly_revenue: np.ndarray,
    horizon_weeks: int,
    back_weeks: int,
    progress: Progress | None,
) -> _Window:
    """Fit every candidate on the weeks before the last ``back_weeks`` and forecast the
    ``horizon_weeks`` after them, for the products that had sold by then."""
    cut = weekly_units.shape[1] - back_weeks
    train = weekly_units[:, :cut]
    actual = weekly_units[:, cut : cut + horizon_weeks]
    eligible = first_week < cut - 1
    train, actual, first = train[eligible], actual[eligible], first_week[eligible]
    forecasts = candidate_forecasts(fitting_series(train, first), first, horizon_weeks, progress)
    forecasts.update(metrics.baseline_forecasts(train, horizon_weeks))
    return _Window(
        forecasts=forecasts,
        actual=actual,
        scale=metrics.rmsse_scale(train, first),
        weight=weekly_revenue[eligible][:, cut - horizon_weeks : cut].sum(axis=1),
        classes=demand_class(train, first),
        dispersion=dispersion_index(train, first),
    )


def _backtest(
    weekly_units: np.ndarray,
    first_week: np.ndarray,
    weekly_revenue: np.ndarray,
    horizon_weeks: int,
    level: int,
    progress: Progress | None,
) -> tuple[dict[str, str], dict, float]:
    """Score every candidate on the last ``BACKTEST_WINDOWS`` spans of ``horizon_weeks`` weeks before
    the as-of date (each fitted on the weeks before it). A demand class keeps the combination unless a
    single model beat it by ``SELECTION_MARGIN`` on average: one lucky month is not enough to switch.
    Also the dispersion factor that makes the intervals cover ``level``% of the product-weeks."""
    windows = []
    for index in range(BACKTEST_WINDOWS):
        back = (BACKTEST_WINDOWS - index) * horizon_weeks
        if weekly_units.shape[1] - back < 2:
            continue
        report = (lambda f, m="", i=index: progress((i + f) / BACKTEST_WINDOWS, m)) if progress else None
        windows.append(
            _backtest_window(weekly_units, first_week, weekly_revenue, horizon_weeks, back, report)
        )
    names = [*CANDIDATES, *metrics.BASELINES]
    table: dict = {}
    chosen: dict[str, str] = {}
    for name in DEMAND_CLASSES:
        products = [int((window.classes == name).sum()) for window in windows]
        scores = {}
        for candidate in names:
            values = [
                metrics.wrmsse(w.actual[m], w.forecasts[candidate][m], w.scale[m], w.weight[m])
                for w in windows
                for m in [w.classes == name]
            ]
            values = [value for value in values if np.isfinite(value)]
            scores[candidate] = float(np.mean(values)) if values else float("nan")
        single = {c: scores[c] for c in CANDIDATES if c != "combined" and np.isfinite(scores[c])}
        chosen[name] = "combined"
        if single and min(products, default=0) >= MIN_PRODUCTS_TO_CHOOSE and np.isfinite(scores["combined"]):
            best = min(single, key=single.get)
            if single[best] < scores["combined"] * (1 - SELECTION_MARGIN):
                chosen[name] = best
        table[name] = {
            "products": products[-1] if products else 0,
            "wrmsse": {c: (round(s, 4) if np.isfinite(s) else None) for c, s in scores.items()},
            "chosen": chosen[name],
        }
    overall: dict[str, list[float]] = {name: [] for name in [*names, "chosen"]}
    factor, coverage = 1.0, float("nan")
    actual_all, mean_all, dispersion_all = [], [], []
    for window in windows:
        pick = np.array([chosen[name] for name in window.classes], dtype=object).astype(str)
        mean = _take(window.forecasts, pick)
        for candidate in names:
            overall[candidate].append(
                metrics.wrmsse(window.actual, window.forecasts[candidate], window.scale, window.weight)
            )
        overall["chosen"].append(metrics.wrmsse(window.actual, mean, window.scale, window.weight))
        actual_all.append(window.actual)
        mean_all.append(mean)
        dispersion_all.append(np.repeat(window.dispersion[:, None], window.actual.shape[1], axis=1))
    if windows and sum(len(a) for a in actual_all):
        actual, mean, dispersion = (np.concatenate(parts) for parts in (actual_all, mean_all, dispersion_all))
        best_gap = np.inf
        for candidate_factor in DISPERSION_FACTORS:
            lower, upper = interval(mean, dispersion * candidate_factor, level)
            covered = metrics.interval_coverage(actual, lower, upper)
            if abs(covered - level / 100) < best_gap:
                best_gap, factor, coverage = abs(covered - level / 100), float(candidate_factor), covered
    mean_scores = {
        c: float(np.nanmean(v)) if v and np.isfinite(v).any() else float("nan") for c, v in overall.items()
    }
    table["all"] = {
        "products": int(len(windows[-1].actual)) if windows else 0,
        "windows": len(windows),
        "wrmsse": {c: (round(s, 4) if np.isfinite(s) else None) for c, s in mean_scores.items()},
        "interval_coverage": round(coverage, 4) if np.isfinite(coverage) else None,
        "dispersion_factor": factor,
    }
    return chosen, table, factor


def _take(forecasts: dict[str, np.ndarray], pick: np.ndarray) -> np.ndarray:
    if not len(pick):
        return np.zeros((0, next(iter(forecasts.values())).shape[1]))
    stacked = np.stack([forecasts[name] for name in CANDIDATES])
    position = {name: index for index, name in enumerate(CANDIDATES)}
    return stacked[[position[name] for name in pick], np.arange(len(pick))]


def forecast_demand(
    history: DemandHistory, *, horizon_days: int = 28, level: int = 80, progress: Progress | None = None
) -> ForecastResult:
    """Daily forecasts with a ``level``% interval for the ``horizon_days`` days from the as-of date."""
    report = progress or (lambda fraction, message="": None)
    horizon_weeks = -(-horizon_days // 7)
    weekly_units = weekly(history.units)
    weekly_revenue = weekly(history.revenue)
    first_week = metrics.first_week_index(
        history.first_sale_day, days=history.days, weeks=weekly_units.shape[1]
    )
    report(0.0, "Backtest")
    chosen, table, factor = _backtest(
        weekly_units,
        first_week,
        weekly_revenue,
        min(horizon_weeks, 4),
        level,
        lambda f, m="": report(0.45 * f, f"Backtest: {m}"),
    )
    report(0.5, "Forecasting")
    forecasts = candidate_forecasts(
        fitting_series(weekly_units, first_week),
        first_week,
        horizon_weeks,
        lambda f, m="": report(0.5 + 0.45 * f, f"Forecast: {m}"),
    )
    classes = demand_class(weekly_units, first_week)
    pick = np.array([chosen.get(name, "combined") for name in classes], dtype=object).astype(str)
    weekly_mean = _take(forecasts, pick)
    dispersion = dispersion_index(weekly_units, first_week) * factor
    profile = np.tile(weekday_profile(history.units), horizon_weeks)[:horizon_days]
    daily_mean = np.repeat(weekly_mean, 7, axis=1)[:, :horizon_days] * profile
    daily_lower, daily_upper = interval(daily_mean, dispersion[:, None], level)
    report(1.0, "Done")
    return ForecastResult(
        product_ids=history.product_ids,
        daily_mean=daily_mean,
        daily_lower=daily_lower,
        daily_upper=daily_upper,
        weekly_mean=weekly_mean,
        dispersion=dispersion,
        model=pick,
        demand_class=classes,
        backtest=table,
        level=level,
    )


def bucket_forecast(
    daily_mean: np.ndarray, dispersion: np.ndarray, *, bucket_days: int, level: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum daily forecasts into buckets of ``bucket_days`` counted from the first day, each with its own
    interval (a last, shorter bucket keeps the days it has)."""
    n, days = daily_mean.shape
    buckets = -(-days // bucket_days)
    padded = np.zeros((n, buckets * bucket_days))
    padded[:, :days] = daily_mean
    mean = padded.reshape(n, buckets, bucket_days).sum(axis=2)
    lower, upper = interval(mean, np.asarray(dispersion)[:, None], level)
    return mean, lower, upper

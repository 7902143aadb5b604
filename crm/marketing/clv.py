"""Customer lifetime value: BG/NBD for purchases and P(alive), Gamma-Gamma for spend per purchase.

Both models come from PyMC-Marketing's ``clv`` module with flat (``HalfFlat``) priors fitted by MAP,
which is maximum likelihood and reproduces the published estimates (Fader, Hardie & Lee 2005 on CDNOW).

Time is counted in weeks (``UNIT_DAYS``) as in the published work; a "purchase" is a purchase day, so
several orders on one day are one transaction, and its value is the day's net spend.

The models assume purchase rates that do not change with the calendar. Where the history reaches a year
and a half back, ``seasonal_correction`` measures how far the same model's forecast of the same calendar
window one year earlier fell from what happened, and forecasts run on that much more (or less) time.
"""

import datetime as dt
import os
import tempfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

UNIT_DAYS = 7
HORIZON_90_DAYS = 90
HORIZON_365_DAYS = 365
# High value = top decile of predicted 12-month value.
HIGH_VALUE_QUANTILE = 0.9
# Below this many customers with repeat purchases a Gamma-Gamma fit says nothing; the observed mean
# spend per purchase day is used for everyone instead.
MIN_REPEAT_CUSTOMERS_FOR_SPEND_MODEL = 10

# Seasonal correction: the backtest window is the forecast window one year earlier, and its fit needs
# half a year of history and some repeat buyers before it; a factor outside the bounds is clipped to them.
SEASON_DAYS = 365
MIN_BACKTEST_HISTORY_DAYS = 182
MIN_BACKTEST_REPEAT_CUSTOMERS = 50
CORRECTION_BOUNDS = (0.5, 2.0)

SUMMARY_COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value", "first_purchase_value"]


def _pytensor_ready() -> None:
    """Keep PyTensor's compiled C modules in a temp folder unless the environment says otherwise.

    The first fit in a fresh folder compiles for about 20 s; later fits reuse the cache and take seconds.
    """
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "compiledir" not in flags:
        compiledir = os.path.join(tempfile.gettempdir(), f"retail-crm-pytensor-{os.getuid()}")
        os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [flags, f"compiledir={compiledir}"]))


def clv_summary(
    purchase_days: pd.DataFrame, *, calibration_end: dt.date, unit_days: int = UNIT_DAYS
) -> pd.DataFrame:
    """Per customer: repeat purchases, recency and age in ``unit_days``, mean repeat spend.

    ``purchase_days`` has customer_id, day, amount (net spend that day). Days after ``calibration_end``
    (inclusive end) are ignored, as are days of net returns (negative amount). ``frequency`` counts purchase
    days after the first; ``recency`` is first to last purchase day; ``T`` is first purchase day to
    ``calibration_end``; ``monetary_value`` is the mean spend of the repeat days (0 without repeats), the
    Gamma-Gamma convention.
    """
    days = purchase_days.assign(day=pd.to_datetime(purchase_days["day"]).dt.normalize())
    days = days[(days["day"] <= pd.Timestamp(calibration_end))]
    days = days.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    days = days[days["amount"] >= 0].sort_values(["customer_id", "day"])
    grouped = days.groupby("customer_id")
    first_day = grouped["day"].min()
    last_day = grouped["day"].max()
    count = grouped["day"].count()
    total = grouped["amount"].sum()
    first_value = grouped["amount"].first()
    frequency = (count - 1).astype("int64")
    repeat_total = total - first_value
    summary = pd.DataFrame(
        {
            "customer_id": first_day.index.to_numpy(),
            "frequency": frequency.to_numpy(),
            "recency": ((last_day - first_day).dt.days / unit_days).to_numpy(),
            "T": ((pd.Timestamp(calibration_end) - first_day).dt.days / unit_days).to_numpy(),
            "monetary_value": np.where(frequency > 0, repeat_total / frequency.clip(lower=1), 0.0),
            "first_purchase_value": first_value.to_numpy(),
        }
    )
    return summary[SUMMARY_COLUMNS].reset_index(drop=True)


@dataclass
class FittedClv:
    bgnbd: object
    gamma_gamma: object | None
    parameters: dict
    mean_spend: float
    unit_days: int


def _flat_priors(names: tuple[str, ...]) -> dict:
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


# Purchase models of the literature, all on (frequency, recency, T): the library class and its parameters.
PURCHASE_MODELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "bg/nbd": ("BetaGeoModel", ("r", "alpha", "a", "b")),
    "modified bg/nbd": ("ModifiedBetaGeoModel", ("r", "alpha", "a", "b")),
    "pareto/nbd": ("ParetoNBDModel", ("r", "alpha", "s", "beta")),
}


def fit_purchase_model(summary: pd.DataFrame, *, kind: str = "bg/nbd", flat_priors: bool = True):
    """A purchase model of ``PURCHASE_MODELS`` fitted by MAP: with flat priors (maximum likelihood) by
    default, else the library's weakly informative default priors."""
    if kind not in PURCHASE_MODELS:
        raise ValueError(f"Unknown purchase model {kind!r}; choose one of {', '.join(PURCHASE_MODELS)}.")
    if len(summary) < 2 or int((summary["frequency"] > 0).sum()) == 0:
        raise ValueError(f"{kind} needs at least two customers and one repeat purchase.")
    _pytensor_ready()
    import pymc_marketing.clv as library

    class_name, names = PURCHASE_MODELS[kind]
    model = getattr(library, class_name)(model_config=_flat_priors(names) if flat_priors else None)
    model.fit(data=summary[["customer_id", "frequency", "recency", "T"]], method="map", progressbar=False)
    return model


def fit_bgnbd(summary: pd.DataFrame, *, flat_priors: bool = True):
    return fit_purchase_model(summary, kind="bg/nbd", flat_priors=flat_priors)


def purchase_model_log_likelihood(model) -> float:
    """Log-likelihood of the fitted purchase model on the data it was fitted to (priors left out), for
    choosing between models on the calibration data alone."""
    import pymc as pm

    density = pm.compute_log_likelihood(
        model.idata, model=model.model, extend_inferencedata=False, progressbar=False
    )
    return float(sum(float(values.sum()) for values in density.data_vars.values()))


def _predicts_finite(model, summary: pd.DataFrame) -> bool:
    data = summary[["customer_id", "frequency", "recency", "T"]]
    expected = np.asarray(model.expected_purchases(data, future_t=HORIZON_365_DAYS / UNIT_DAYS))
    return bool(np.isfinite(expected).all())


def fit_gamma_gamma(summary: pd.DataFrame):
    """Gamma-Gamma on the customers with repeat purchases (and positive mean spend) only."""
    _pytensor_ready()
    from pymc_marketing.clv import GammaGammaModel

    repeaters = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    model = GammaGammaModel(model_config=_flat_priors(("p", "q", "v")))
    model.fit(data=repeaters[["customer_id", "monetary_value", "frequency"]], method="map", progressbar=False)
    return model


def fitted_parameters(model, names: tuple[str, ...]) -> dict[str, float]:
    return {name: float(np.asarray(model.fit_result[name]).squeeze()) for name in names}


def _fit_purchases(summary: pd.DataFrame):
    """BG/NBD by maximum likelihood, or with the library's priors where that runs away; and which."""
    bgnbd = fit_bgnbd(summary)
    if _predicts_finite(bgnbd, summary):
        return bgnbd, "flat"
    # Purchase rates that hardly differ between customers drive r and alpha to infinity by maximum
    # likelihood; the library's weakly informative priors keep them finite.
    bgnbd = fit_bgnbd(summary, flat_priors=False)
    if not _predicts_finite(bgnbd, summary):
        raise ValueError("BG/NBD did not converge on this data.")
    return bgnbd, "default"


def clv_fit(summary: pd.DataFrame, *, unit_days: int = UNIT_DAYS) -> FittedClv:
    bgnbd, priors = _fit_purchases(summary)
    parameters: dict = {
        "unit_days": unit_days,
        "bgnbd": fitted_parameters(bgnbd, ("r", "alpha", "a", "b")),
        "bgnbd_priors": priors,
    }
    repeaters = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    gamma_gamma = None
    if len(repeaters) >= MIN_REPEAT_CUSTOMERS_FOR_SPEND_MODEL:
        gamma_gamma = fit_gamma_gamma(summary)
        spend = fitted_parameters(gamma_gamma, ("p", "q", "v"))
        parameters["gamma_gamma"] = spend
        # The population mean exists only for q > 1; otherwise spend is too heavy-tailed to model.
        if spend["q"] <= 1:
            gamma_gamma = None
    if gamma_gamma is None:
        parameters["gamma_gamma"] = parameters.get("gamma_gamma")
        parameters["spend_model"] = "observed mean spend per purchase day"
    values = np.where(summary["frequency"] > 0, summary["monetary_value"], summary["first_purchase_value"])
    mean_spend = float(np.mean(values)) if len(values) else 0.0
    if gamma_gamma is not None:
        spend = parameters["gamma_gamma"]
        mean_spend = spend["v"] * spend["p"] / (spend["q"] - 1)
        parameters["spend_model"] = "gamma-gamma"
    parameters["population_mean_spend"] = mean_spend
    return FittedClv(bgnbd, gamma_gamma, parameters, mean_spend, unit_days)


@dataclass(frozen=True)
class SeasonalCorrection:
    """Forecast horizon in days -> factor on the model's time; 1.0 everywhere when none was measured."""

    factors: dict[int, float]
    backtest_cutoff: dt.date | None
    reason: str

    def factor(self, horizon_days: int) -> float:
        return self.factors.get(horizon_days, 1.0)

    def as_parameters(self) -> dict:
        return {
            "factors": {str(days): round(value, 4) for days, value in self.factors.items()},
            "backtest_cutoff": self.backtest_cutoff.isoformat() if self.backtest_cutoff else None,
            "reason": self.reason,
        }


def seasonal_correction(
    purchase_days: pd.DataFrame,
    *,
    calibration_end: dt.date,
    horizons: tuple[int, ...] = (HORIZON_90_DAYS, HORIZON_365_DAYS),
    unit_days: int = UNIT_DAYS,
) -> SeasonalCorrection:
    """Backtest one year back: fit BG/NBD on the history up to ``calibration_end`` minus a year, forecast
    each horizon from there, and compare with the purchase days those customers then made. The factor
    (actual / forecast, clipped to ``CORRECTION_BOUNDS``) stretches the forecast horizon of the current
    fit: a calendar window that was busier than its customers' rates implied a year ago gets more time.
    Only history up to ``calibration_end`` is read. Without enough of it every factor is 1.0 and
    ``reason`` says why."""
    if any(not 0 < days <= SEASON_DAYS for days in horizons):
        raise ValueError(f"Horizons must lie between 1 and {SEASON_DAYS} days, not {horizons}.")
    neutral = {days: 1.0 for days in horizons}
    days = purchase_days.assign(day=pd.to_datetime(purchase_days["day"]).dt.normalize())
    days = days[days["day"] <= pd.Timestamp(calibration_end)]
    cutoff = calibration_end - dt.timedelta(days=SEASON_DAYS)
    needed = cutoff - dt.timedelta(days=MIN_BACKTEST_HISTORY_DAYS)
    if days.empty or days["day"].min() > pd.Timestamp(needed):
        return SeasonalCorrection(
            neutral,
            None,
            f"the history starts after {needed:%-d %b %Y}; the correction needs orders from a year and a "
            f"half before {calibration_end:%-d %b %Y}",
        )
    summary = clv_summary(days, calibration_end=cutoff, unit_days=unit_days)
    if int((summary["frequency"] > 0).sum()) < MIN_BACKTEST_REPEAT_CUSTOMERS:
        return SeasonalCorrection(
            neutral, cutoff, f"fewer than {MIN_BACKTEST_REPEAT_CUSTOMERS} repeat buyers up to {cutoff}"
        )
    try:
        model, _ = _fit_purchases(summary)
    except ValueError as exc:
        return SeasonalCorrection(neutral, cutoff, f"the backtest fit up to {cutoff} failed: {exc}")
    data = summary[["customer_id", "frequency", "recency", "T"]]
    # What those customers did after the cutoff, counted as clv_summary counts: days of positive net spend.
    later = days[days["day"] > pd.Timestamp(cutoff)].groupby(["customer_id", "day"], as_index=False)["amount"]
    later = later.sum()
    later = later[(later["amount"] >= 0) & later["customer_id"].isin(summary["customer_id"])]
    factors = {}
    for horizon in horizons:
        forecast = float(np.asarray(model.expected_purchases(data, future_t=horizon / unit_days)).sum())
        actual = int((later["day"] <= pd.Timestamp(cutoff + dt.timedelta(days=horizon))).sum())
        factor = actual / forecast if forecast > 0 else 1.0
        factors[horizon] = float(np.clip(factor, *CORRECTION_BOUNDS))
    return SeasonalCorrection(factors, cutoff, f"backtest of {len(summary):,} customers from {cutoff}")


NO_CORRECTION = SeasonalCorrection({}, None, "not applied")


def clv_predict(
    fitted: FittedClv,
    summary: pd.DataFrame,
    *,
    margin: float = 1.0,
    correction: SeasonalCorrection = NO_CORRECTION,
) -> pd.DataFrame:
    """Expected purchases in 90 and 365 days, P(alive), expected spend per purchase, 12-month value.

    Customers with a single purchase day get the population mean spend (they carry no repeat-spend
    information). ``high_value`` is the top decile of ``predicted_clv_12m``; ``churn_risk`` is 1 - P(alive).
    Each horizon runs on the model's time stretched by ``correction``'s factor for it.
    """
    data = summary[["customer_id", "frequency", "recency", "T"]]
    model = fitted.bgnbd

    def purchases(days: int) -> np.ndarray:
        future_t = days / fitted.unit_days * correction.factor(days)
        return np.asarray(model.expected_purchases(data, future_t=future_t)).reshape(-1)

    p_alive = np.clip(np.asarray(model.expected_probability_alive(data)).reshape(-1), 0.0, 1.0)
    spend = np.full(len(summary), fitted.mean_spend, dtype="float64")
    repeat = (summary["frequency"] > 0).to_numpy() & (summary["monetary_value"] > 0).to_numpy()
    if fitted.gamma_gamma is not None and repeat.any():
        repeaters = summary.loc[repeat, ["customer_id", "monetary_value", "frequency"]]
        spend[repeat] = np.asarray(fitted.gamma_gamma.expected_customer_spend(repeaters)).reshape(-1)
    elif repeat.any():
        spend[repeat] = summary.loc[repeat, "monetary_value"].to_numpy()
    purchases_365 = purchases(HORIZON_365_DAYS)
    clv = purchases_365 * spend * margin
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "expected_purchases_90d": purchases(HORIZON_90_DAYS),
            "expected_purchases_365d": purchases_365,
            "p_alive": p_alive,
            "expected_order_value": spend,
            "predicted_clv_12m": clv,
            "high_value": _top_decile(clv),
            "churn_risk": 1.0 - p_alive,
        }
    )


def _top_decile(values: np.ndarray) -> np.ndarray:
    """Top 10% by value (rounded up); ties at the edge are cut by position so the share stays 10%."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    count = int(np.ceil(len(values) * (1 - HIGH_VALUE_QUANTILE)))
    order = np.argsort(-values, kind="stable")
    flags = np.zeros(len(values), dtype=bool)
    flags[order[:count]] = True
    return flags


def simulate_purchases(
    fitted: FittedClv,
    summary: pd.DataFrame,
    *,
    future_t: float,
    draws: int,
    seed: int = 0,
    chunk_size: int = 1000,
):
    """Draws of each customer's purchases in the next ``future_t`` (model units) from the fitted BG/NBD, in
    chunks of customers: yields (slice of ``summary``'s rows, array of shape rows x ``draws``).

    A customer is alive with probability P(alive); if alive, the purchase rate comes from its posterior
    Gamma(r + x, alpha + T) and the dropout probability from Beta(a, b + x), and purchases follow a Poisson
    process up to the one after which the customer drops out."""
    parameters = fitted_parameters(fitted.bgnbd, ("r", "alpha", "a", "b"))
    data = summary[["customer_id", "frequency", "recency", "T"]]
    p_alive = np.clip(np.asarray(fitted.bgnbd.expected_probability_alive(data)).reshape(-1), 0.0, 1.0)
    frequency = summary["frequency"].to_numpy(dtype="float64")
    age = summary["T"].to_numpy(dtype="float64")
    rng = np.random.default_rng(seed)
    for start in range(0, len(summary), chunk_size):
        part = slice(start, min(start + chunk_size, len(summary)))
        size = (part.stop - part.start, draws)
        shape = (parameters["r"] + frequency[part])[:, None]
        rate = rng.gamma(shape, 1.0 / (parameters["alpha"] + age[part])[:, None], size=size)
        dropout = rng.beta(parameters["a"], (parameters["b"] + frequency[part])[:, None], size=size)
        last_purchase = rng.geometric(np.clip(dropout, 1e-12, 1.0))
        purchases = np.minimum(rng.poisson(rate * future_t), last_purchase)
        alive = rng.random(size) < p_alive[part][:, None]
        yield part, np.where(alive, purchases, 0)


def purchase_quantile(
    fitted: FittedClv,
    summary: pd.DataFrame,
    *,
    future_t: float,
    quantile: float = 0.5,
    draws: int = 4000,
    seed: int = 0,
) -> np.ndarray:
    """A quantile of each customer's purchases in the next ``future_t`` (model units), from
    ``simulate_purchases``. The median is the point forecast that absolute error rewards, as expected
    purchases are the one squared error rewards."""
    result = np.zeros(len(summary))
    for part, purchases in simulate_purchases(fitted, summary, future_t=future_t, draws=draws, seed=seed):
        result[part] = np.quantile(purchases, quantile, axis=1, method="inverted_cdf")
    return result

"""Customer lifetime value: BG/NBD for purchases and P(alive), Gamma-Gamma for spend per purchase.

Both models come from PyMC-Marketing's ``clv`` module with flat (``HalfFlat``) priors fitted by MAP,
which is maximum likelihood and reproduces the published estimates (Fader, Hardie & Lee 2005 on CDNOW).

Time is counted in weeks (``UNIT_DAYS``) as in the published work; a "purchase" is a purchase day, so
several orders on one day are one transaction, and its value is the day's net spend.
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


def clv_fit(summary: pd.DataFrame, *, unit_days: int = UNIT_DAYS) -> FittedClv:
    bgnbd = fit_bgnbd(summary)
    priors = "flat"
    if not _predicts_finite(bgnbd, summary):
        # Purchase rates that hardly differ between customers drive r and alpha to infinity by maximum
        # likelihood; the library's weakly informative priors keep them finite.
        bgnbd = fit_bgnbd(summary, flat_priors=False)
        priors = "default"
        if not _predicts_finite(bgnbd, summary):
            raise ValueError("BG/NBD did not converge on this data.")
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


def clv_predict(fitted: FittedClv, summary: pd.DataFrame, *, margin: float = 1.0) -> pd.DataFrame:
    """Expected purchases in 90 and 365 days, P(alive), expected spend per purchase, 12-month value.

    Customers with a single purchase day get the population mean spend (they carry no repeat-spend
    information). ``high_value`` is the top decile of ``predicted_clv_12m``; ``churn_risk`` is 1 - P(alive).
    """
    data = summary[["customer_id", "frequency", "recency", "T"]]
    model = fitted.bgnbd

    def purchases(days: int) -> np.ndarray:
        expected = model.expected_purchases(data, future_t=days / fitted.unit_days)
        return np.asarray(expected).reshape(-1)

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

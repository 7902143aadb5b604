"""Holdout check of the lifetime-value model on UCI Online Retail.

Fit BG/NBD on purchase days before 2011-09-01, predict each customer's purchase days from then to the
end of the data (2011-12-09), compare with what they did. The naive forecast keeps each customer's
calibration rate: repeat purchase days per week since their first purchase, times the holdout weeks.

Run twice: on the demo file alone (history from 2010-12-01) and with the shop's year before
(Online Retail II, history from 2009-12-01), where the seasonal correction of ``crm.marketing.clv`` has
a year-back backtest to learn from. Everything the forecasts use lies before the cutoff.

    .venv/bin/python bench/bench_clv_holdout.py [--write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from crm.marketing import clv  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
UCI = DATASETS / "uci_online_retail" / "online_retail_2010-12_2011-12.parquet"
UCI_YEAR_BEFORE = DATASETS / "uci_online_retail_ii_2009_2010" / "online_retail_ii_2009-12_2010-12.parquet"
CALIBRATION_END = dt.date(2011, 8, 31)  # fit on data before 2011-09-01
SECTION = "## Segments and lifetime value"


def purchase_days_of(path: Path) -> pd.DataFrame:
    """Net spend per customer and purchase day of a UCI file (either column naming), cleaned: no
    cancellations, no missing customer, quantity and price > 0."""
    lines = pd.read_parquet(path).rename(
        columns={"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"}
    )
    lines = lines[
        ~lines["InvoiceNo"].astype(str).str.startswith("C")
        & lines["CustomerID"].notna()
        & (lines["Quantity"] > 0)
        & (lines["UnitPrice"] > 0)
    ]
    frame = pd.DataFrame(
        {
            "customer_id": lines["CustomerID"].astype("int64"),
            "day": pd.to_datetime(lines["InvoiceDate"]).dt.normalize(),
            "amount": lines["Quantity"] * lines["UnitPrice"],
        }
    )
    return frame.groupby(["customer_id", "day"], as_index=False)["amount"].sum()


def uci_purchase_days() -> pd.DataFrame:
    return purchase_days_of(UCI)


def uci_two_years_purchase_days() -> pd.DataFrame:
    """Both years; the files share 2010-12-01 to 2010-12-09 (the same rows), taken once."""
    current = uci_purchase_days()
    before = purchase_days_of(UCI_YEAR_BEFORE)
    before = before[before["day"] < current["day"].min()]
    return pd.concat([before, current], ignore_index=True)


FREQUENCY_BUCKETS = ((0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (7, 9), (10, 14), (15, None))


@dataclass
class Holdout:
    """One history's fit, its forecasts of the holdout and what happened."""

    label: str
    summary: pd.DataFrame
    fitted: clv.FittedClv
    correction: clv.SeasonalCorrection
    actual: np.ndarray
    forecasts: dict[str, np.ndarray]
    seconds: float

    def mae(self, name: str, mask: np.ndarray | None = None) -> float:
        mask = np.ones(len(self.actual), dtype=bool) if mask is None else mask
        return float(np.abs(self.forecasts[name][mask] - self.actual[mask]).mean())

    def rmse(self, name: str, mask: np.ndarray | None = None) -> float:
        mask = np.ones(len(self.actual), dtype=bool) if mask is None else mask
        return float(np.sqrt(((self.forecasts[name][mask] - self.actual[mask]) ** 2).mean()))

    def total_error(self, name: str) -> float:
        return abs(self.forecasts[name].sum() - self.actual.sum())

    def row(self, name: str) -> str:
        total, truth = self.forecasts[name].sum(), self.actual.sum()
        return (
            f"| {self.label} | {len(self.actual):,} | {name} | {self.mae(name):.3f} | "
            f"{self.rmse(name):.3f} | {total:,.0f} | {truth:,} | {(total - truth) / truth:+.1%} |"
        )


MEAN, MEDIAN, NAIVE = "BG/NBD expected purchases", "BG/NBD median", "naive: same rate as in calibration"
CORRECTED_MEAN = "BG/NBD expected purchases, seasonally corrected"
CORRECTED_MEDIAN = "BG/NBD median, seasonally corrected"
CORRECTED_NAIVE = "naive × the same seasonal factor (for comparison)"


def holdout(label: str, days: pd.DataFrame) -> Holdout:
    started = time.monotonic()
    end = days["day"].max().date()
    horizon_days = (end - CALIBRATION_END).days
    history = days[days["day"] <= pd.Timestamp(CALIBRATION_END)]
    summary = clv.clv_summary(history, calibration_end=CALIBRATION_END)
    fitted = clv.clv_fit(summary)
    correction = clv.seasonal_correction(history, calibration_end=CALIBRATION_END, horizons=(horizon_days,))
    # T and recency are weeks from the first purchase day to the cutoff day, so day k after the cutoff is
    # T + k/7: the holdout's days are horizon_days/7 weeks in the model's unit.
    weeks = horizon_days / fitted.unit_days
    factor = correction.factor(horizon_days)
    rfm = summary[["customer_id", "frequency", "recency", "T"]]

    def mean(future_t: float) -> np.ndarray:
        return np.asarray(fitted.bgnbd.expected_purchases(rfm, future_t=future_t)).reshape(-1)

    frequency = summary["frequency"].to_numpy()
    naive = np.where(summary["T"] > 0, frequency / summary["T"].clip(lower=1e-9), 0.0) * weeks
    forecasts = {
        MEAN: mean(weeks),
        MEDIAN: clv.purchase_quantile(fitted, summary, future_t=weeks),
        NAIVE: naive,
    }
    if correction.backtest_cutoff is not None:
        forecasts[CORRECTED_MEAN] = mean(weeks * factor)
        forecasts[CORRECTED_MEDIAN] = clv.purchase_quantile(fitted, summary, future_t=weeks * factor)
        forecasts[CORRECTED_NAIVE] = naive * factor
    later = days[days["day"] > pd.Timestamp(CALIBRATION_END)]
    actual = (
        later.groupby("customer_id")["day"].nunique().reindex(summary["customer_id"], fill_value=0).to_numpy()
    )
    return Holdout(label, summary, fitted, correction, actual, forecasts, time.monotonic() - started)


def verdict(result: Holdout, mean_name: str, median_name: str) -> str:
    def word(won: bool) -> str:
        return "yes" if won else "no"

    return (
        f"{result.label}: beats naive on MAE (median) {word(result.mae(median_name) < result.mae(NAIVE))}, "
        f"on RMSE (expected purchases) {word(result.rmse(mean_name) < result.rmse(NAIVE))}, "
        f"on total error {word(result.total_error(mean_name) < result.total_error(NAIVE))}."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="Write the section into BENCHMARKS.md.")
    args = parser.parse_args()
    started = time.monotonic()
    one = holdout("2010-12 on (demo file)", uci_purchase_days())
    two = holdout("2009-12 on (both years)", uci_two_years_purchase_days())
    horizon_days = next(iter(one.correction.factors))
    end = CALIBRATION_END + dt.timedelta(days=horizon_days)

    # Candidate purchase models compared on the calibration data only: log-likelihood and AIC.
    choice_rows = []
    for kind in clv.PURCHASE_MODELS:
        model = one.fitted.bgnbd if kind == "bg/nbd" else clv.fit_purchase_model(one.summary, kind=kind)
        names = clv.PURCHASE_MODELS[kind][1]
        values = clv.fitted_parameters(model, names)
        log_likelihood = clv.purchase_model_log_likelihood(model)
        shown = ", ".join(f"{name}={value:.4g}" for name, value in values.items())
        choice_rows.append(
            f"| {kind} | {shown} | {log_likelihood:,.2f} | {2 * len(names) - 2 * log_likelihood:,.2f} |"
        )

    frequency = two.summary["frequency"].to_numpy()
    bucket_rows = []
    for low, high in FREQUENCY_BUCKETS:
        mask = (frequency >= low) & (frequency <= (high if high is not None else frequency.max()))
        label = str(low) if high == low else (f"{low}-{high}" if high is not None else f"{low}+")
        bucket_rows.append(
            f"| {label} | {mask.sum():,} | {two.actual[mask].mean():.2f} | "
            f"{two.forecasts[CORRECTED_MEAN][mask].mean():.2f} | {two.forecasts[NAIVE][mask].mean():.2f} | "
            f"{two.mae(CORRECTED_MEDIAN, mask):.3f} | {two.mae(NAIVE, mask):.3f} | "
            f"{two.rmse(CORRECTED_MEAN, mask):.3f} | {two.rmse(NAIVE, mask):.3f} |"
        )

    def parameters(result: Holdout) -> str:
        values = result.fitted.parameters["bgnbd"]
        return ", ".join(f"{name}={values[name]:.4g}" for name in ("r", "alpha", "a", "b"))

    body = [
        "Holdout check of BG/NBD on UCI Online Retail (cleaned: no cancellations, no missing CustomerID, "
        f"quantity and price > 0). Fit on purchase days up to {CALIBRATION_END}, forecast each calibration "
        f"customer's purchase days {CALIBRATION_END + dt.timedelta(days=1)} to {end} ({horizon_days} days "
        f"= {horizon_days / 7:.2f} weeks, the model's unit), once with the demo file's history alone (from "
        "2010-12-01) and once with the shop's year before added (Online Retail II, from 2009-12-01). Naive = "
        "the customer's calibration rate of repeat purchase days per week (since the first purchase) kept "
        "for the holdout. Expected purchases are the model's forecast for squared error (RMSE) and totals; "
        "its median (by simulation from the fitted model, `clv.purchase_quantile`) is its forecast for "
        "absolute error (MAE). The seasonal correction (`clv.seasonal_correction`, also used by "
        "`compute_segments`) fits the same model one year earlier, on data up to "
        f"{CALIBRATION_END - dt.timedelta(days=clv.SEASON_DAYS)}, and stretches the forecast horizon by "
        "how far that forecast of the same calendar window fell short; it needs a year and a half of "
        "history, so only the two-year run has it. Nothing after the cutoff is read by any forecast.",
        "",
        "| history | customers | forecast | MAE per customer | RMSE per customer | total predicted | "
        "total actual | total error |",
        "|---|---|---|---|---|---|---|---|",
        *(one.row(name) for name in one.forecasts),
        *(two.row(name) for name in two.forecasts),
        "",
        verdict(one, MEAN, MEDIAN),
        verdict(two, CORRECTED_MEAN, CORRECTED_MEDIAN)
        + " Without the seasonal correction: "
        + verdict(two, MEAN, MEDIAN).split(": ", 1)[1],
        "",
        f"Seasonal factor of the two-year run: {two.correction.factor(horizon_days):.3f} "
        f"({two.correction.reason}); the one-year run: {one.correction.reason}.",
        "",
        "Two-year run by calibration repeat purchases (mean purchase days per customer in the holdout, as in "
        "Fader, Hardie & Lee's holdout plot; corrected forecasts):",
        "",
        "| repeat purchase days in calibration | customers | actual | BG/NBD | naive | MAE BG/NBD median | "
        "MAE naive | RMSE BG/NBD | RMSE naive |",
        "|---|---|---|---|---|---|---|---|---|",
        *bucket_rows,
        "",
        "Model choice on the one-year calibration data (log-likelihood and AIC):",
        "",
        "| model | parameters (weeks) | log-likelihood | AIC |",
        "|---|---|---|---|",
        *choice_rows,
        "",
        "Reading the numbers. (1) The holdout is the pre-Christmas peak, busier than the calibration "
        "customers' own rates imply; a model of steady purchase rates does not foresee that, and on the "
        "demo file alone, with no earlier autumn to learn from, BG/NBD loses to naive per customer. With "
        "the year before, the backtest sees the same shortfall a year earlier and the corrected forecast "
        "wins on every measure; the naive forecast stretched by the same factor gets worse, so the gain is "
        "the model's, not the factor's. (2) Per-customer MAE rewards a forecast near the median: most "
        "customers with one calibration purchase day buy nothing in the holdout, so a forecast of 0 for "
        "them scores well on MAE though their mean is above 0; the model's median says the same where its "
        "predictive distribution does. (3) On the one-year data the dropout parameter runs to the edge "
        "(a near 0): the calibration months show no dropout, BG/NBD, MBG/NBD and Pareto/NBD reduce to "
        "the NBD and forecast alike; the two-year history does show dropout.",
        "",
        f"Fitted (weeks): one year {parameters(one)}; two years {parameters(two)} "
        f"({two.fitted.parameters['bgnbd_priors']} priors). Run {one.seconds:.1f} s and {two.seconds:.1f} s, "
        f"whole bench {time.monotonic() - started:.1f} s.",
        "",
        f"Command: `.venv/bin/python bench/bench_clv_holdout.py --write`. Machine: {platform.machine()}, "
        f"{platform.system()}, Python {platform.python_version()}, shared 2-core container.",
    ]
    print("\n".join(body))
    if args.write:
        from bench_sections import replace_section

        replace_section(ROOT / "BENCHMARKS.md", SECTION, _keep_other_lines(body))


def _keep_other_lines(body: list[str]) -> list[str]:
    """The segments bench writes its own table into the same section; keep it below this one."""
    path = ROOT / "BENCHMARKS.md"
    if not path.exists():
        return body
    lines = path.read_text().splitlines()
    try:
        start = lines.index(SECTION)
    except ValueError:
        return body
    stop = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = lines[start + 1 : stop]
    marker = "### Speed"
    if marker in section:
        return [*body, "", *section[section.index(marker) :]]
    return body


if __name__ == "__main__":
    main()

"""Demand forecasts: quality on UCI Online Retail, interval coverage, a replenishment simulation, speed.

    .venv/bin/python bench/bench_forecast.py quality       # WRMSSE vs baselines on three as-of dates
    .venv/bin/python bench/bench_forecast.py replenishment # 13 weeks after 2011-09-05, both policies
    .venv/bin/python bench/bench_forecast.py speed [--products N --customers N --lines N]

Protocol (the README's): units sold per product (sale lines, no returns, no non-product lines) in
weekly buckets over the 4 weeks after the as-of date; the products forecast are those sold in the 365
days before it. WRMSSE: RMSSE per product, scaled by the in-sample mean squared one-week change from
its first sale, weighted by its revenue in the 28 days before the as-of date. Baselines on the same
products: last week repeated, mean of the last 4 weeks, mean of the last 13 weeks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inventory.forecasting import metrics  # noqa: E402
from inventory.forecasting.demand import demand_history, weekly  # noqa: E402
from inventory.forecasting.engine import bucket_forecast, forecast_demand  # noqa: E402

UCI_FILE = ROOT / "data" / "online_retail_2010-12_2011-12.parquet"
AS_OF_DATES = (dt.date(2011, 9, 5), dt.date(2011, 10, 3), dt.date(2011, 11, 7))
HORIZON_DAYS = 28
SIMULATION_START = dt.date(2011, 9, 5)
SIMULATION_WEEKS = 13


def uci_sales() -> pd.DataFrame:
    """Sale lines of the UCI file as the shop stores them: upper-cased stock codes, the configured
    non-product codes left out, cancellations and negative quantities left out."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.test")
    from django.conf import settings

    raw = pd.read_parquet(UCI_FILE)
    code = raw["StockCode"].astype(str).str.strip().str.upper()
    configured = [c.strip().upper() for c in settings.CRM_NON_PRODUCT_CODES if c.strip()]
    non_product = code.isin({c for c in configured if not c.endswith("*")}) | code.str.startswith(
        tuple(c[:-1] for c in configured if c.endswith("*"))
    )
    sale = ~raw["InvoiceNo"].astype(str).str.startswith("C") & (raw["Quantity"] > 0) & ~non_product
    raw, code = raw[sale], code[sale]
    product_codes, uniques = pd.factorize(code)
    return pd.DataFrame(
        {
            "product_id": product_codes.astype("int64"),
            "customer_id": raw["CustomerID"].fillna(-1).astype("int64").to_numpy(),
            "day": pd.to_datetime(raw["InvoiceDate"]).dt.normalize().to_numpy(),
            "units": raw["Quantity"].to_numpy(dtype=float),
            "revenue": (raw["Quantity"] * raw["UnitPrice"]).to_numpy(dtype=float),
        }
    )


def actual_weeks(sales: pd.DataFrame, product_ids: np.ndarray, as_of: dt.date, weeks: int) -> np.ndarray:
    later = demand_history(
        sales, as_of=as_of + dt.timedelta(days=7 * weeks), days=7 * weeks, active_days=7 * weeks
    )
    rows = pd.Index(later.product_ids).get_indexer(product_ids)
    out = np.zeros((len(product_ids), weeks))
    known = rows >= 0
    out[known] = weekly(later.units)[rows[known]]
    return out


def quality(sales: pd.DataFrame) -> None:
    ratios, coverages = [], []
    print(
        "| as of | products | WRMSSE forecast | last week | mean 4 weeks | mean 13 weeks | ratio to best "
        "baseline | 80% interval coverage (weekly) | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for as_of in AS_OF_DATES:
        started = time.monotonic()
        history = demand_history(sales, as_of=as_of)
        result = forecast_demand(history, horizon_days=HORIZON_DAYS)
        seconds = time.monotonic() - started
        weekly_history = weekly(history.units)
        first_week = metrics.first_week_index(
            history.first_sale_day, days=history.days, weeks=weekly_history.shape[1]
        )
        scale = metrics.rmsse_scale(weekly_history, first_week)
        weight = history.revenue[:, -28:].sum(axis=1)
        actual = actual_weeks(sales, history.product_ids, as_of, 4)
        mean, lower, upper = bucket_forecast(result.daily_mean, result.dispersion, bucket_days=7, level=80)
        score = metrics.wrmsse(actual, mean, scale, weight)
        baselines = {
            name: metrics.wrmsse(actual, values, scale, weight)
            for name, values in metrics.baseline_forecasts(weekly_history, 4).items()
        }
        ratio = score / min(baselines.values())
        coverage = metrics.interval_coverage(actual, lower, upper)
        ratios.append(ratio)
        coverages.append(coverage)
        print(
            f"| {as_of} | {len(history.product_ids):,} | {score:.4f} | {baselines['last_week']:.4f} | "
            f"{baselines['mean_4_weeks']:.4f} | {baselines['mean_13_weeks']:.4f} | {ratio:.3f} | "
            f"{coverage:.1%} | {seconds:.1f} |"
        )
        chosen = {name: row["chosen"] for name, row in result.backtest.items() if "chosen" in row}
        print(f"<!-- {as_of}: chosen per class {chosen}; backtest {result.backtest['all']} -->")
    print(f"\nMean ratio to the best baseline: **{np.mean(ratios):.3f}**")
    print(f"Mean weekly 80% interval coverage: {np.mean(coverages):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("part", choices=["quality", "replenishment", "speed"])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=2_000_000)
    args = parser.parse_args()
    print(f"<!-- {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()} -->")
    if args.part == "quality":
        quality(uci_sales())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak memory (max RSS): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()

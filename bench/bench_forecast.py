"""Demand forecasts: quality on UCI Online Retail, interval coverage, a replenishment simulation, speed.

    .venv/bin/python bench/bench_forecast.py quality       # WRMSSE vs baselines on three as-of dates
    .venv/bin/python bench/bench_forecast.py replenishment # 13 weeks after 2011-09-05, both policies
    .venv/bin/python bench/bench_forecast.py replenishment --start 2011-05-02  # the validation window
    .venv/bin/python bench/bench_forecast.py speed [--products N --customers N --lines N]

Protocol (the README's): units sold per product (sale lines, no returns, no non-product lines) in
weekly buckets over the 4 weeks after the as-of date; the products forecast are those sold in the 365
days before it. WRMSSE: RMSSE per product, scaled by the in-sample mean squared one-week change from
its first sale, weighted by its revenue in the 28 days before the as-of date. Baselines on the same
products: last week repeated, mean of the last 4 weeks, mean of the last 13 weeks.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
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
    import django
    from django.conf import settings

    django.setup()

    raw = pd.read_parquet(UCI_FILE)
    code = raw["StockCode"].astype(str).str.strip().str.upper()
    configured = [c.strip().upper() for c in settings.CRM_NON_PRODUCT_CODES if c.strip()]
    non_product = code.isin({c for c in configured if not c.endswith("*")}) | code.str.startswith(
        tuple(c[:-1] for c in configured if c.endswith("*"))
    )
    sale = ~raw["InvoiceNo"].astype(str).str.startswith("C") & (raw["Quantity"] > 0) & ~non_product
    raw, code = raw[sale], code[sale]
    product_codes, uniques = pd.factorize(code)
    frame = pd.DataFrame(
        {
            "product_id": product_codes.astype("int64"),
            "customer_id": raw["CustomerID"].fillna(-1).astype("int64").to_numpy(),
            "day": pd.to_datetime(raw["InvoiceDate"]).dt.normalize().to_numpy(),
            "units": raw["Quantity"].to_numpy(dtype=float),
            "revenue": (raw["Quantity"] * raw["UnitPrice"]).to_numpy(dtype=float),
        }
    )
    frame.attrs["codes"] = np.asarray(uniques, dtype=object)
    return frame


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


def _align(source_ids: np.ndarray, values: np.ndarray, target_ids: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (keyed by ``source_ids``) for ``target_ids``; zeros where missing."""
    rows = pd.Index(source_ids).get_indexer(target_ids)
    out = np.zeros((len(target_ids), *values.shape[1:]))
    out[rows >= 0] = values[rows[rows >= 0]]
    return out


def _whole_packs(needed: np.ndarray, pack: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    quantity = np.ceil(np.maximum(needed, 0) / pack) * pack
    return np.where(quantity > 0, np.ceil(np.maximum(quantity, minimum) / pack) * pack, 0)


@dataclasses.dataclass
class Simulation:
    """What both policies of the replenishment simulation see: the products a forecast covers at the
    start, their buying rules and opening stock, the actual daily demand, and at every weekly review the
    forecast (daily means, dispersion) and the mean of the last 4 weeks."""

    start: dt.date
    ids: np.ndarray
    lead: np.ndarray
    pack: np.ndarray
    minimum: np.ndarray
    opening: np.ndarray
    demand: np.ndarray
    daily: np.ndarray  # (review, product, day)
    dispersion: np.ndarray  # (review, product)
    mean_4_weeks: np.ndarray  # (review, product)
    seconds: float
    cached: bool


def replay_cache_path(start: dt.date) -> Path:
    return Path(os.environ.get("BENCH_CACHE_DIR", "/tmp")) / f"bench_forecast_replay_{start.isoformat()}.npz"


def simulation_setup(sales: pd.DataFrame, start: dt.date, *, use_cache: bool = True) -> Simulation:
    """Buying rules: the demo's (same generator and seed); starting stock: the demo's rule applied to
    the 13 weeks before the start. The 13 weekly forecasts take minutes; they are kept in
    ``replay_cache_path(start)`` and read from there on the next run (delete it after changing the
    forecasting code)."""
    from inventory.services.demo import demo_stock_frame

    days = SIMULATION_WEEKS * 7
    codes = sales.attrs["codes"]
    all_ids = np.argsort(codes.astype(str))  # the demo takes products in id order
    end = sales["day"].max() + pd.Timedelta(days=1)
    recent = demand_history(sales, as_of=end.date(), days=91, active_days=10_000)
    end_weekly = _align(recent.product_ids, recent.units.sum(axis=1), all_ids) / 13
    rules = demo_stock_frame(external_ids=list(codes[all_ids]), weekly_units=end_weekly)
    before = demand_history(sales, as_of=start, days=91, active_days=91)
    start_weekly = _align(before.product_ids, before.units.sum(axis=1), all_ids) / 13
    opening = demo_stock_frame(external_ids=list(codes[all_ids]), weekly_units=start_weekly)["on_hand"]
    ids = demand_history(sales, as_of=start).product_ids  # the products a forecast covers
    position = pd.Index(all_ids).get_indexer(ids)
    after = demand_history(sales, as_of=start + dt.timedelta(days=days), days=days, active_days=days)
    cache = replay_cache_path(start)
    started = time.monotonic()
    cached = use_cache and cache.exists()
    if cached:
        with np.load(cache) as stored:
            if not np.array_equal(stored["ids"], ids):
                raise SystemExit(f"{cache} was written for other products; delete it and run again.")
            daily, dispersion, mean_4_weeks = stored["daily"], stored["dispersion"], stored["mean_4_weeks"]
    else:
        reviews = []
        for week in range(SIMULATION_WEEKS):
            history = demand_history(sales, as_of=start + dt.timedelta(days=7 * week))
            result = forecast_demand(history, horizon_days=HORIZON_DAYS)
            reviews.append(
                (
                    _align(history.product_ids, result.daily_mean, ids),
                    np.maximum(_align(history.product_ids, result.dispersion, ids), 1.0),
                    _align(history.product_ids, weekly(history.units)[:, -4:].mean(axis=1), ids),
                )
            )
        daily, dispersion, mean_4_weeks = (np.stack(part) for part in zip(*reviews, strict=True))
        np.savez(cache, ids=ids, daily=daily, dispersion=dispersion, mean_4_weeks=mean_4_weeks)
    return Simulation(
        start=start,
        ids=ids,
        lead=rules["lead_time_days"].to_numpy()[position],
        pack=rules["pack_size"].to_numpy()[position].astype(float),
        minimum=rules["min_order_qty"].to_numpy()[position].astype(float),
        opening=opening.to_numpy()[position].astype(float),
        demand=_align(after.product_ids, after.units, ids),
        daily=daily,
        dispersion=dispersion,
        mean_4_weeks=mean_4_weeks,
        seconds=time.monotonic() - started,
        cached=cached,
    )


Policy = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


def policy_run(simulation: Simulation, policy: Policy) -> tuple[float, float, int]:
    """Weekly reviews, orders arrive after the product's lead time, demand beyond the stock on hand is
    lost. Returns the fill rate, the average units on hand at the end of a day and the orders placed."""
    demand, lead = simulation.demand, simulation.lead
    n, days = demand.shape
    on_hand = simulation.opening.copy()
    arriving = np.zeros((n, days + int(lead.max()) + 1))
    served = held = 0.0
    orders = 0
    for day in range(days):
        if day % 7 == 0:
            quantity = policy(day // 7, on_hand, arriving[:, day:].sum(axis=1))
            arriving[np.arange(n), day + lead] += quantity
            orders += int((quantity > 0).sum())
        on_hand += arriving[:, day]
        sold = np.minimum(on_hand, demand[:, day])
        on_hand -= sold
        served += sold.sum()
        held += on_hand.sum()
    return served / demand.sum(), held / days, orders


def forecast_policy(simulation: Simulation, **options) -> Policy:
    """The product's policy (``replenishment_plan``) with the forecast made at each review."""
    from inventory.forecasting.replenishment import replenishment_plan

    def order(review: int, on_hand: np.ndarray, on_order: np.ndarray) -> np.ndarray:
        return replenishment_plan(
            daily_mean=simulation.daily[review],
            dispersion=simulation.dispersion[review],
            on_hand=on_hand,
            on_order=on_order,
            lead_time_days=simulation.lead,
            review_days=7,
            min_order_qty=simulation.minimum,
            pack_size=simulation.pack,
            **options,
        ).order_quantity

    return order


def rule_of_thumb(simulation: Simulation) -> Policy:
    def order(review: int, on_hand: np.ndarray, on_order: np.ndarray) -> np.ndarray:
        target = 4 * simulation.mean_4_weeks[review]
        return _whole_packs(target - on_hand - on_order, simulation.pack, simulation.minimum)

    return order


def simulated_policies(simulation: Simulation) -> dict[str, Policy]:
    policies = {}
    levels = {"cycle": (0.95, 0.90, 0.88, 0.85, 0.80), "fill_rate": (0.95, 0.90, 0.80)}
    for measure, label in (("cycle", "cycle service level"), ("fill_rate", "fill rate")):
        for level in levels[measure]:
            default = " (the default)" if (measure, level) == ("cycle", 0.95) else ""
            policies[f"forecast policy, {label} {level:.0%}{default}"] = forecast_policy(
                simulation, service_level=level, service_measure=measure
            )
    return policies


def simulate(sales: pd.DataFrame, start: dt.date, *, use_cache: bool = True) -> None:
    """Both policies over the 13 weeks after ``start``."""
    simulation = simulation_setup(sales, start, use_cache=use_cache)
    policies = {
        **simulated_policies(simulation),
        "order up to 4 weeks of the last 4 weeks' mean": rule_of_thumb(simulation),
    }
    n, days = simulation.demand.shape
    replay = "read from " + str(replay_cache_path(start)) if simulation.cached else "computed"
    print(
        f"{n:,} products, {simulation.demand.sum():,.0f} units demanded over {days} days from {start}; "
        f"13 weekly forecasts {replay} in {simulation.seconds:.0f} s.\n"
    )
    print("| policy | fill rate | average units on hand | orders placed |")
    print("|---|---|---|---|")
    for name, policy in policies.items():
        fill, held, orders = policy_run(simulation, policy)
        print(f"| {name} | {fill:.1%} | {held:,.0f} | {orders:,} |")


def synthetic_sales(products: int, customers: int, lines: int, seed: int = 0) -> pd.DataFrame:
    """Two years of order lines: long-tailed product popularity and customer appetite, no Sunday
    trading, a Christmas peak, and quantities of 1-24 units."""
    rng = np.random.default_rng(seed)
    popularity = rng.pareto(1.2, size=products) + 0.05
    appetite = rng.gamma(0.6, 1.0, size=customers)
    day = rng.integers(0, 730, size=lines)
    season = 1 + 0.6 * np.exp(-(((day % 365) - 330) ** 2) / (2 * 25**2))
    day = day[rng.random(lines) < season / season.max()]
    day = day[(pd.Timestamp("2023-01-02") + pd.to_timedelta(day, unit="D")).day_of_week < 6]
    n = len(day)
    return pd.DataFrame(
        {
            "product_id": rng.choice(products, size=n, p=popularity / popularity.sum()).astype("int64"),
            "customer_id": rng.choice(customers, size=n, p=appetite / appetite.sum()).astype("int64"),
            "day": pd.Timestamp("2023-01-02") + pd.to_timedelta(day, unit="D"),
            "units": rng.integers(1, 25, size=n).astype(float),
            "revenue": rng.gamma(2.0, 3.0, size=n),
        }
    )


def speed(products: int, customers: int, lines: int) -> None:
    """The in-memory part of a forecast run (what follows the database read): history, backtest,
    forecasts of every product, intervals."""
    sales = synthetic_sales(products, customers, lines)
    as_of = dt.date(2025, 1, 1)
    started = time.monotonic()
    history = demand_history(sales, as_of=as_of)
    built = time.monotonic() - started
    result = forecast_demand(history, horizon_days=HORIZON_DAYS)
    total = time.monotonic() - started
    print(
        f"{len(sales):,} order lines, {products:,} products "
        f"({len(result.product_ids):,} sold in the last year), {customers:,} customers"
    )
    print(f"history {built:.1f} s, backtest + forecast {total - built:.1f} s, total **{total:.1f} s**")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("part", choices=["quality", "replenishment", "speed"])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        default=SIMULATION_START,
        help=f"replenishment: first day of the 13 simulated weeks (default {SIMULATION_START})",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="replenishment: forecast again even if a replay is stored"
    )
    args = parser.parse_args()
    print(f"<!-- {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()} -->")
    if args.part == "quality":
        quality(uci_sales())
    elif args.part == "replenishment":
        simulate(uci_sales(), args.start, use_cache=not args.no_cache)
    else:
        speed(args.products, args.customers, args.lines)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak memory (max RSS): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()

"""Scaling of ``recommend`` (top 20 per customer) on synthetic shops, pure ml (no database).

    .venv/bin/python bench/recommender_scoring.py [--quick] [--no-write]

Each size runs in its own process so that its peak memory is its own. The network is trained once on
a small synthetic shop; each size then ranks from the History of its own shop (scoring cost does not
depend on how the weights were learnt). Writes "## Recommender scoring (pure)" in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bench_sections import replace_section  # noqa: E402

TOP_N = 20
CUSTOMER_SIZES = (10_000, 20_000, 40_000)
PRODUCT_SIZES = (2_000, 5_000, 10_000)
FIXED_PRODUCTS = 2_000
FIXED_CUSTOMERS = 10_000
BIGGEST = (100_000, 10_000)


def synthetic_shop(
    *,
    customers: int,
    products: int,
    seed: int = 7,
    days: int = 365,
    orders_per_customer: float = 6.0,
    lines_per_order: float = 3.0,
) -> dict[str, pd.DataFrame]:
    """A shop with Zipf-popular products, per-customer favourites bought again, a few countries."""
    rng = np.random.default_rng(seed)
    product_ids = np.arange(1, products + 1, dtype=np.int64)
    popularity = 1.0 / np.arange(1, products + 1) ** 0.9
    popularity /= popularity.sum()
    orders = np.maximum(rng.poisson(orders_per_customer, customers), 1)
    order_customer = np.repeat(np.arange(customers), orders)
    n_orders = len(order_customer)
    order_day = rng.uniform(0, days, n_orders)
    lines = np.maximum(rng.poisson(lines_per_order, n_orders), 1)
    line_order = np.repeat(np.arange(n_orders), lines)
    line_customer = order_customer[line_order]
    favourites = rng.choice(products, size=(customers, 4), p=popularity)
    from_favourites = rng.random(len(line_order)) < 0.5
    product = rng.choice(products, size=len(line_order), p=popularity)
    product[from_favourites] = favourites[
        line_customer[from_favourites], rng.integers(0, 4, from_favourites.sum())
    ]
    start = np.datetime64("2024-01-01T00:00:00", "ns")
    order_lines = pd.DataFrame(
        {
            "customer_id": line_customer.astype(np.int64) + 1,
            "product_id": product_ids[product],
            "order_id": line_order.astype(np.int64) + 1,
            "ordered_at": start + (order_day[line_order] * 86400e9).astype("timedelta64[ns]"),
            "quantity": rng.integers(1, 5, len(line_order)).astype(np.int64),
            "unit_price": np.round(1.0 + (product % 50) * 0.5, 2).astype(np.float64),
        }
    ).drop_duplicates(["order_id", "product_id"])
    products_frame = pd.DataFrame(
        {
            "product_id": product_ids,
            "category_id": pd.array(product_ids % 40 + 1, dtype="Int64"),
            "price": np.round(1.0 + (product_ids % 50) * 0.5, 2),
            "active": True,
            "in_stock": rng.random(products) > 0.05,
        }
    )
    customers_frame = pd.DataFrame(
        {
            "customer_id": np.arange(1, customers + 1, dtype=np.int64),
            "country": np.array(["United Kingdom", "France", "Germany", "Spain", "Norway"])[
                rng.choice(5, customers, p=[0.6, 0.15, 0.1, 0.1, 0.05])
            ],
        }
    )
    return {"order_lines": order_lines, "products": products_frame, "customers": customers_frame}


def run_one(customers: int, products: int, network_dir: Path) -> dict:
    from recommender.ml import TrainedRecommender, recommend
    from recommender.ml.evaluate import prepare_frames
    from recommender.ml.features import DAY, build_history

    small = TrainedRecommender.load(network_dir)
    shop = synthetic_shop(customers=customers, products=products)
    lines, product_frame, customer_frame, events = prepare_frames(
        shop["order_lines"], shop["products"], shop["customers"], None
    )
    began = time.monotonic()
    end = np.datetime64(lines["ordered_at"].max(), "ns") + DAY
    config = small.config
    history = build_history(
        order_lines=lines,
        products=product_frame,
        customers=customer_frame,
        events=events,
        cutoff=end,
        neighbours=config.neighbours,
        popular_days=config.popular_days,
    )
    history_seconds = time.monotonic() - began
    small.ranker.history = history
    small.products = product_frame[["product_id", "category_id", "active", "in_stock"]]
    began = time.monotonic()
    result = recommend(small, customer_ids=customer_frame["customer_id"].to_numpy(), top_n=TOP_N)
    seconds = time.monotonic() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "customers": customers,
        "products": products,
        "order_lines": int(len(lines)),
        "history_seconds": round(history_seconds, 2),
        "recommend_seconds": round(seconds, 2),
        "pairs_per_second": round(customers * products / seconds),
        "rows": int(len(result)),
        "peak_memory_mb": round(peak_mb),
    }


def network_words() -> str:
    """The scoring network as the default TrainConfig makes it, e.g. "3 MLPs of 128-64-32 merged into one"."""
    from recommender.ml import TrainConfig

    config = TrainConfig()
    layers = "-".join(str(size) for size in config.hidden_layers)
    if config.networks == 1:
        return f"MLP {layers}"
    return f"{config.networks} MLPs of {layers} merged into one"


def train_small_network(directory: Path) -> None:
    from recommender.ml import TrainConfig, train_recommender

    shop = synthetic_shop(customers=3_000, products=1_000, seed=3)
    config = TrainConfig(epochs=3, training_windows=2, run_als=False)
    train_recommender(**shop, config=config).save(directory)


def growth(runs: list[dict]) -> list[str]:
    """How recommend time grows along each axis, from the smallest to the largest run of that axis."""
    by_size = {(run["customers"], run["products"]): run for run in runs}
    sentences = []
    for label, axis in (
        ("customers", [(c, FIXED_PRODUCTS) for c in CUSTOMER_SIZES]),
        ("products", [(FIXED_CUSTOMERS, p) for p in PRODUCT_SIZES]),
    ):
        measured = [by_size[size] for size in axis if size in by_size]
        if len(measured) >= 2:
            first, last = measured[0], measured[-1]
            size_ratio = last[label] / first[label]
            time_ratio = last["recommend_seconds"] / first["recommend_seconds"]
            sentences.append(f"{label} x{size_ratio:g}: recommend time x{time_ratio:.2f}.")
    if BIGGEST in by_size:
        run = by_size[BIGGEST]
        sentences.append(
            f"Biggest run {BIGGEST[0]:,} x {BIGGEST[1]:,}: {run['recommend_seconds']} s to recommend "
            f"(+{run['history_seconds']} s History), peak {run['peak_memory_mb']:,} MB."
        )
    return [" ".join(sentences)] if sentences else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, type=int, metavar=("CUSTOMERS", "PRODUCTS"))
    parser.add_argument("--network", type=Path, default=Path("/tmp/recommender-scoring-bench-network"))
    parser.add_argument("--quick", action="store_true", help="small sizes only, no 100k run")
    parser.add_argument("--no-write", action="store_true")
    arguments = parser.parse_args()
    if arguments.one:
        print(json.dumps(run_one(*arguments.one, arguments.network)))
        return
    load_at_start = os.getloadavg()[0]
    began = time.monotonic()
    train_small_network(arguments.network)
    print(f"network trained in {time.monotonic() - began:.0f} s", flush=True)
    sizes = [(c, FIXED_PRODUCTS) for c in CUSTOMER_SIZES] + [(FIXED_CUSTOMERS, p) for p in PRODUCT_SIZES]
    if arguments.quick:
        sizes = [(2_000, 500), (4_000, 500), (2_000, 1_000)]
    else:
        sizes.append(BIGGEST)
    runs = []
    for customers, products in dict.fromkeys(sizes):
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(customers),
                str(products),
                "--network",
                str(arguments.network),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        run = json.loads(output.strip().splitlines()[-1])
        runs.append(run)
        print(run, flush=True)
    machine = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next(
        (line.split(":", 1)[1].strip() for line in machine.splitlines() if line.startswith("Model name")),
        "unknown",
    )
    lines = [
        "Command: `.venv/bin/python bench/recommender_scoring.py`  ",
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; machine: {model}, "
        f"{os.cpu_count()} cores, load average {load_at_start:.1f} at the start.  ",
        f"`recommend(top_n={TOP_N})` for every customer of a synthetic shop (about 6 orders x 3 lines per "
        "customer, Zipf popularity, favourites bought again), default TrainConfig candidates "
        "(own history, co-purchase, country and overall popular: about 200 per customer), "
        f"{network_words()}. "
        "Each size in its own process; peak memory is that process's maximum RSS (TensorFlow included). "
        "Building the History (features as of the end of the data) is timed apart.",
        "",
        "| customers | products | order lines | history s | recommend s | customer x product pairs / s | "
        "rows written | peak memory MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run['customers']:,} | {run['products']:,} | {run['order_lines']:,} | "
            f"{run['history_seconds']} | {run['recommend_seconds']} | {run['pairs_per_second']:,} | "
            f"{run['rows']:,} | {run['peak_memory_mb']:,} |"
        )
    lines += ["", *growth(runs)]
    print("\n".join(lines))
    if not arguments.no_write:
        replace_section(ROOT / "BENCHMARKS.md", "## Recommender scoring (pure)", lines)
        print("written to BENCHMARKS.md")


if __name__ == "__main__":
    main()

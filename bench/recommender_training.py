"""Training and serving time of the recommender as order lines and products grow.

    DATABASE_URL=postgres://... .venv/bin/python bench/recommender_training.py \\
        --customers 2500 --products 65000 --orders 140000 --lines-per-order 9.5 [--profile]
    .venv/bin/python bench/recommender_training.py --frames DIR [--profile]

With shop sizes it writes a generated shop into the database named by DATABASE_URL (replacing its
synthetic rows) and reads the frames back the way training does (``recommender.services.frames``),
saving them under ``--save-frames``; with ``--frames`` it reads such a folder. Then it times
``ml.train_recommender`` stage by stage (from its progress messages) and ``ml.recommend`` (top 20)
for every customer with a purchase, and prints one row of the scaling table in BENCHMARKS.md.
``--profile`` adds cProfile's 25 most expensive calls (cumulative). ``--keep-orders 0.25`` keeps a
random quarter of the orders (fewer lines, same catalogue); ``--fold-products 16250`` puts the same
baskets on a catalogue of that many products.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

FRAMES = ("order_lines", "products", "customers", "events")


def generated_frames(arguments: argparse.Namespace) -> tuple[dict[str, pd.DataFrame], float, float]:
    import django

    django.setup()
    from django.core.management import call_command

    from crm.services.demo_data import generate_demo_data
    from recommender.services import frames

    call_command("migrate", verbosity=0)
    began = time.monotonic()
    generate_demo_data(
        customers=arguments.customers,
        products=arguments.products,
        orders=arguments.orders,
        seed=arguments.seed,
        start=dt.date(2023, 1, 1),
        months=24,
        lines_per_order=arguments.lines_per_order,
        events_per_customer=2.0,
        replace=True,
    )
    generate_seconds = time.monotonic() - began
    began = time.monotonic()
    result = {
        "order_lines": frames.order_line_frame(),
        "products": frames.product_frame(),
        "customers": frames.customer_frame(),
        "events": frames.event_frame(),
    }
    return result, generate_seconds, time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=2_500)
    parser.add_argument("--products", type=int, default=65_000)
    parser.add_argument("--orders", type=int, default=140_000)
    parser.add_argument("--lines-per-order", type=float, default=9.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--frames", type=Path, help="read the frames from this folder instead")
    parser.add_argument("--save-frames", type=Path, help="keep the generated frames in this folder")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep-orders", type=float, default=1.0, help="share of orders kept (fewer lines)")
    parser.add_argument(
        "--fold-products", type=int, default=0, help="fold product ids onto this many (smaller catalogue)"
    )
    arguments = parser.parse_args()

    if arguments.frames:
        shop = {name: pd.read_parquet(arguments.frames / f"{name}.parquet") for name in FRAMES}
        generate_seconds = read_seconds = 0.0
    else:
        shop, generate_seconds, read_seconds = generated_frames(arguments)
        if arguments.save_frames:
            arguments.save_frames.mkdir(parents=True, exist_ok=True)
            for name, frame in shop.items():
                frame.to_parquet(arguments.save_frames / f"{name}.parquet", index=False)

    if arguments.keep_orders < 1:
        lines = shop["order_lines"]
        orders = lines["order_id"].unique()
        rng = np.random.default_rng(arguments.seed)
        kept = rng.choice(orders, size=int(len(orders) * arguments.keep_orders), replace=False)
        shop["order_lines"] = lines[lines["order_id"].isin(kept)]
    if arguments.fold_products:
        # the same baskets over a smaller catalogue: product k becomes the k-th of the first N
        ids = np.sort(shop["products"]["product_id"].to_numpy())
        folded = dict(zip(ids, ids[np.arange(len(ids)) % arguments.fold_products], strict=True))
        lines = shop["order_lines"].copy()
        lines["product_id"] = lines["product_id"].map(folded)
        shop["order_lines"] = lines.drop_duplicates(["order_id", "product_id"])
        kept_products = shop["products"]["product_id"].isin(ids[: arguments.fold_products])
        shop["products"] = shop["products"][kept_products]
        events = shop["events"].copy()
        events["product_id"] = events["product_id"].map(folded)
        shop["events"] = events

    from recommender.ml import recommend, train_recommender

    stages: list[tuple[float, str]] = []
    now = dt.datetime.now(dt.UTC)
    print(f"started {now:%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}", flush=True)
    began = time.monotonic()

    def progress(fraction: float, message: str) -> None:
        stages.append((time.monotonic() - began, message))
        print(f"{stages[-1][0]:8.1f} s  {message}", flush=True)

    profiler = cProfile.Profile() if arguments.profile else None
    if profiler:
        profiler.enable()
    trained = train_recommender(**shop, progress=progress)
    train_seconds = time.monotonic() - began
    began_scoring = time.monotonic()
    customer_ids = shop["order_lines"]["customer_id"].unique()
    served = recommend(trained, customer_ids=customer_ids, top_n=20)
    recommend_seconds = time.monotonic() - began_scoring
    if profiler:
        profiler.disable()

    timings = trained.timings
    counts = trained.counts
    mlp = trained.metrics["mlp"]
    personal = trained.metrics["personal_top"]
    print("timings", {key: round(value, 1) for key, value in timings.items()})
    print(
        f"| {counts['order_lines']:,} | {counts['products']:,} | {counts['customers']:,} | "
        f"{counts['training_rows']:,} | {timings.get('evaluation_history_seconds', 0):.1f} | "
        f"{timings.get('evaluation_mlp_training_seconds', 0):.0f} | "
        f"{timings['final_training_seconds']:.0f} | "
        f"{train_seconds:.0f} | {recommend_seconds:.1f} | "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} | "
        f"{mlp['ndcg@10']:.4f} / {personal['ndcg@10']:.4f} |"
    )
    print(
        f"generated in {generate_seconds:.0f} s, frames read in {read_seconds:.0f} s, "
        f"{len(served):,} recommendations for {len(customer_ids):,} customers"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()

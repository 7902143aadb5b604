"""What staff explanations add to scoring: ``recommend`` with and without them on a demo-size shop.

    .venv/bin/python bench/recommender_explanations.py [--customers N] [--products M] [--no-write]
    DATABASE_URL=postgres://... .venv/bin/python bench/recommender_explanations.py --database \
        [--generate CUSTOMERS PRODUCTS ORDERS] [--no-write]

Pure ml (no database): a network trained on a small synthetic shop (as ``recommender_scoring.py`` does)
ranks a synthetic shop of the demo's size (the UCI demo scores about 4,400 customers over 3,700
products), top 20 with the served lists' rules, once without and once with explanations. Reports the
wall and CPU seconds of each, the residual of the stored explanations (base + contributions against the
score), the linear pieces walked per pair and the size of a stored explanation. Writes
"## Recommender explanations (scoring time)" in BENCHMARKS.md.

With ``--database``: the whole scoring service (``model_version_score``: ranking, explanations, naming
the co-purchased products, COPY into PostgreSQL, the finishing step) on the shop in DATABASE_URL (made
by ``--generate`` with ``generate_demo_data``), a small version trained first, scored once with
``RECOMMENDER_EXPLANATIONS`` off and once on; its lines are added under the same heading.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from bench_sections import replace_section  # noqa: E402
from recommender_scoring import synthetic_shop, train_small_network  # noqa: E402

TOP_N = 20
# the served lists' defaults (RECOMMENDER_MIN_NEW_ITEMS; RECOMMENDER_NEW_ITEM_WEIGHT "auto" chooses
# 1.8 on UCI before its test period, BENCHMARKS.md "Recommender quality")
MIN_NEW_ITEMS, NEW_ITEM_WEIGHT = 1, 1.8


def timed(call):
    wall, cpu = time.monotonic(), time.process_time()
    result = call()
    return result, time.monotonic() - wall, time.process_time() - cpu


def measure(customers: int, products: int, network_dir: Path) -> dict:
    from recommender.ml import TrainedRecommender, recommend
    from recommender.ml.evaluate import prepare_frames
    from recommender.ml.explain import explain_features
    from recommender.ml.features import DAY, build_history, generate_candidates, pair_features

    model = TrainedRecommender.load(network_dir)
    shop = synthetic_shop(customers=customers, products=products)
    lines, product_frame, customer_frame, events = prepare_frames(
        shop["order_lines"], shop["products"], shop["customers"], None
    )
    config = model.config
    model.ranker.history = build_history(
        order_lines=lines,
        products=product_frame,
        customers=customer_frame,
        events=events,
        cutoff=np.datetime64(lines["ordered_at"].max(), "ns") + DAY,
        neighbours=config.neighbours,
        popular_days=config.popular_days,
    )
    model.products = product_frame[["product_id", "category_id", "active", "in_stock"]]
    ids = customer_frame["customer_id"].to_numpy()

    def run(explanations: bool):
        return recommend(
            model,
            customer_ids=ids,
            top_n=TOP_N,
            min_new_items=MIN_NEW_ITEMS,
            new_item_weight=NEW_ITEM_WEIGHT,
            explanations=explanations,
        )

    run(False)  # TensorFlow's first call builds its graph: not counted
    plain, plain_wall, plain_cpu = timed(lambda: run(False))
    explained, explained_wall, explained_cpu = timed(lambda: run(True))
    documents = [document for document in explained["explanation"] if document]
    residual = np.abs([document["residual"] for document in documents])
    # linear pieces walked per pair, on the candidates of the first 200 customers
    history = model.history
    candidates = generate_candidates(
        history,
        np.arange(min(200, history.n_customers)),
        allowed=history.product_seen,
        **config.candidate_sources,
    )
    pieces = explain_features(model.ranker, pair_features(history, candidates)).pieces
    stored = [
        {key: value for key, value in document.items() if key != "co_purchase_product_ids"}
        | {"co_purchase_products": [{"external_id": "85123A", "name": "x" * 30}] * 3}
        for document in documents[:2000]
    ]
    return {
        "customers": customers,
        "products": products,
        "rows": int(len(plain)),
        "explained_rows": len(documents),
        "plain_wall": round(plain_wall, 2),
        "plain_cpu": round(plain_cpu, 2),
        "explained_wall": round(explained_wall, 2),
        "explained_cpu": round(explained_cpu, 2),
        "residual_max": float(residual.max()),
        "residual_p99": float(np.quantile(residual, 0.99)),
        "pieces_mean": round(float(pieces.mean()), 1),
        "pieces_max": int(pieces.max()),
        "stored_bytes": round(float(np.mean([len(json.dumps(document)) for document in stored]))),
    }


FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}


def measure_database(generate: list[int] | None) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from crm.services.demo_data import generate_demo_data
    from recommender.models import ModelVersion, Recommendation
    from recommender.services.scoring import model_version_score
    from recommender.services.training import model_version_train

    if generate:
        customers, products, orders = generate
        generate_demo_data(
            customers=customers,
            products=products,
            orders=orders,
            seed=1,
            start=dt.date(2023, 1, 1),
            months=24,
            replace=True,
        )
    version = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
    seconds = {}
    for explanations in (False, True):
        settings.RECOMMENDER_EXPLANATIONS = explanations
        ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.READY)
        began = time.monotonic()
        model_version_score(model_version=version)
        seconds[explanations] = round(time.monotonic() - began, 2)
    rows = Recommendation.objects.filter(model_version=version)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT avg(pg_column_size(explanation)) FROM recommender_recommendation "
            "WHERE model_version_id = %s",
            [version.pk],
        )
        stored_bytes = cursor.fetchone()[0]
    return {
        "rows": rows.count(),
        "explained_rows": rows.filter(explanation__isnull=False).count(),
        "customers": int(rows.values("customer_id").distinct().count()),
        "without": seconds[False],
        "with": seconds[True],
        "stored_bytes": round(float(stored_bytes or 0)),
    }


def database_lines(run: dict, generate: list[int] | None) -> list[str]:
    extra = run["with"] - run["without"]
    shop = (
        f"`generate_demo_data` {generate[0]:,} customers, {generate[1]:,} products, {generate[2]:,} orders "
        "(seed 1, 24 months)"
        if generate
        else "the shop in DATABASE_URL"
    )
    return [
        "",
        "The whole scoring service on PostgreSQL (`model_version_score`: ranking, explanations, product "
        f"names, COPY, the finishing step), {shop}: {run['customers']:,} customers scored, "
        f"{run['rows']:,} rows ({run['explained_rows']:,} explained), **{run['without']} s without, "
        f"{run['with']} s with explanations (+{extra:.1f} s)**; an explanation takes {run['stored_bytes']} "
        "bytes in the table (jsonb, compressed). Command: `DATABASE_URL=postgres://... .venv/bin/python "
        "bench/recommender_explanations.py --database"
        + (f" --generate {generate[0]} {generate[1]} {generate[2]}`." if generate else "`."),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=4_400)
    parser.add_argument("--products", type=int, default=3_700)
    parser.add_argument("--network", type=Path, default=Path("/tmp/recommender-explanations-bench-network"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--database", action="store_true", help="the scoring service on DATABASE_URL")
    parser.add_argument("--generate", nargs=3, type=int, metavar=("CUSTOMERS", "PRODUCTS", "ORDERS"))
    arguments = parser.parse_args()
    if arguments.database:
        run = measure_database(arguments.generate)
        print(json.dumps(run), flush=True)
        lines = database_lines(run, arguments.generate)
        print("\n".join(lines))
        if not arguments.no_write:
            append_to_section(ROOT / "BENCHMARKS.md", "## Recommender explanations (scoring time)", lines)
            print("written to BENCHMARKS.md")
        return
    if not (arguments.network / "meta.json").exists():
        train_small_network(arguments.network)
    run = measure(arguments.customers, arguments.products, arguments.network)
    print(json.dumps(run), flush=True)
    extra_wall = run["explained_wall"] - run["plain_wall"]
    extra_cpu = run["explained_cpu"] - run["plain_cpu"]
    machine = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next(
        (line.split(":", 1)[1].strip() for line in machine.splitlines() if line.startswith("Model name")),
        "unknown",
    )
    load = os.getloadavg()[0]
    body = [
        "Command: `.venv/bin/python bench/recommender_explanations.py`  ",
        f"Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; machine: {model}, "
        f"{os.cpu_count()} cores shared with other work (load average {load:.1f} at the end).  ",
        f"`recommend(top_n={TOP_N}, min_new_items={MIN_NEW_ITEMS}, new_item_weight={NEW_ITEM_WEIGHT})` "
        "for every customer of a synthetic shop "
        f"of the demo's size ({run['customers']:,} customers, {run['products']:,} products; the network "
        "of `recommender_scoring.py`, MLP 128-64-32), without and with `explanations=True` (exact "
        "integrated gradients of every written row, `recommender.ml.explain`).",
        "",
        "| rows written | without s (CPU s) | with s (CPU s) | extra s | extra ms per row | "
        "residual max | residual p99 | pieces per candidate pair (mean, max) | stored bytes per row |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {run['rows']:,} | {run['plain_wall']} ({run['plain_cpu']}) | {run['explained_wall']} "
        f"({run['explained_cpu']}) | {extra_wall:.2f} | {1000 * extra_wall / max(run['rows'], 1):.3f} | "
        f"{run['residual_max']:.1e} | {run['residual_p99']:.1e} | "
        f"{run['pieces_mean']}, {run['pieces_max']} | {run['stored_bytes']} |",
        "",
        f"Explanations add {extra_wall:.1f} s ({extra_cpu:.1f} CPU s) to scoring this shop; the residual "
        "is what rounding the stored contributions to 6 decimals and the network's float32 leave. "
        "`RECOMMENDER_EXPLANATIONS=false` leaves them out.",
    ]
    print("\n".join(body))
    if not arguments.no_write:
        replace_section(ROOT / "BENCHMARKS.md", "## Recommender explanations (scoring time)", body)
        print("written to BENCHMARKS.md")


def append_to_section(path: Path, heading: str, lines: list[str]) -> None:
    """Add ``lines`` at the end of the ``heading`` section (the pure run replaces the whole section)."""
    text = path.read_text().splitlines()
    start = text.index(heading)
    stop = next((index for index in range(start + 1, len(text)) if text[index].startswith("## ")), len(text))
    while stop > start + 1 and not text[stop - 1].strip():
        stop -= 1
    path.write_text("\n".join([*text[:stop], *lines, "", *text[stop:]]).rstrip() + "\n")


if __name__ == "__main__":
    main()

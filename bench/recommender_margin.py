"""Where the MLP's margin over personal top-frequency lies, and other ways to weigh never-bought products.

    .venv/bin/python bench/recommender_margin.py --cutoff 2011-10-01 --end 2011-11-01 [--seed 42]
        [--parquet PATH [PATH ...]]

Trains the MLP before ``--cutoff`` (as ``recommender_quality.py`` does) and measures on [cutoff, end):

1. NDCG@10 of the MLP and of personal top-frequency by kind of customer (orders and distinct products
   before the cutoff, and the share of what they bought in the period that they had bought before), to
   see whether the margin comes from some customers and is lost on others.
2. The served lists (at least one never-bought product in the first places, as served) ordered four
   ways, each at a few strengths, as (all-items NDCG@10, never-bought NDCG@10) pairs: the product's
   weight (a never-bought product's score times w), a weight per customer from the metric (1 + s x
   the ideal DCG of the products the network expects them to buy over that of the never-bought ones it
   expects), odds times e^s, and score plus s. A way that finds more never-bought purchases for the
   same all-items NDCG@10 than the product's weight would be worth serving.

Prints only; BENCHMARKS.md quotes its output. Choose on validation splits only, never the test period.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from recommender.ml import TrainConfig, evaluate_protocol  # noqa: E402
from recommender.ml.baselines import PersonalTopRanker  # noqa: E402
from recommender.ml.discovery import DISCOVERY_PLACES, position_in_row, served_order  # noqa: E402
from recommender.ml.evaluate import fill_with_popular, rank, ranking_metrics  # noqa: E402
from recommender.ml.features import _lookup  # noqa: E402
from recommender.ml.model import candidates_in_chunks  # noqa: E402
from recommender.ml.uci import load_uci_frames  # noqa: E402

K = 10
DISCOUNT = 1.0 / np.log2(np.arange(2, K + 2))
IDEAL = np.concatenate([[0.0], np.cumsum(DISCOUNT)])  # ideal DCG@10 of 0..10 relevant products


def ideal_dcg(expected: np.ndarray) -> np.ndarray:
    """Ideal DCG@10 of an expected (fractional) number of relevant products, at least half of one."""
    return np.interp(np.clip(expected, 0.5, K), np.arange(K + 1), IDEAL)


def per_customer_ndcg(top: np.ndarray, relevant: list[set[int]]) -> np.ndarray:
    values = np.zeros(len(top))
    for index, (row, items) in enumerate(zip(top, relevant, strict=True)):
        hits = np.fromiter((product in items for product in row), dtype=bool, count=len(row))
        values[index] = (hits * DISCOUNT).sum() / IDEAL[min(len(items), K)]
    return values


def orderings() -> list[tuple[str, float, object]]:
    """(name, strength, function of (scores, is_new, row) giving the value lists are ordered by)."""

    def weight(w):
        return lambda scores, is_new, row: np.where(is_new, scores * w, scores)

    def per_customer(s):
        def order(scores, is_new, row):
            rows = int(row.max()) + 1
            expected_all = np.bincount(row, weights=scores, minlength=rows)
            expected_new = np.bincount(row, weights=scores * is_new, minlength=rows)
            w = 1.0 + s * ideal_dcg(expected_all) / ideal_dcg(expected_new)
            return np.where(is_new, scores * w[row], scores)

        return order

    def odds(s):
        def order(scores, is_new, row):
            logit = np.log(scores / np.maximum(1.0 - scores, 1e-12))
            return np.where(is_new, logit + s, logit)

        return order

    def plus(s):
        return lambda scores, is_new, row: np.where(is_new, scores + s, scores)

    return (
        [("weight", w, weight(w)) for w in (1.0, 1.4, 1.8, 2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 3.5)]
        + [("per customer", s, per_customer(s)) for s in (0.3, 0.6, 1.0, 1.5)]
        + [("odds x e^s", s, odds(s)) for s in (0.5, 1.0, 1.5, 2.0)]
        + [("score + s", s, plus(s)) for s in (0.02, 0.06, 0.1)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--parquet", type=Path, nargs="+", default=[ROOT / "data" / "online_retail_2010-12_2011-12.parquet"]
    )
    parser.add_argument("--cutoff", required=True)
    parser.add_argument("--end", required=True)
    parser.add_argument("--seed", type=int, default=42)
    arguments = parser.parse_args()

    order_lines, products, customers = load_uci_frames(arguments.parquet)
    config = TrainConfig(seed=arguments.seed)
    result = evaluate_protocol(
        order_lines=order_lines,
        products=products,
        customers=customers,
        cutoff=arguments.cutoff,
        end=arguments.end,
        config=config,
    )
    ranker = result["_ranker"]
    history = ranker.history
    evaluated, relevant, new_relevant = result["_evaluated"], result["_relevant"], result["_new_relevant"]
    bought = [set(history.bought[customer].indices.tolist()) for customer in evaluated]
    allowed = history.product_seen
    size = int(allowed.sum())

    mlp = per_customer_ndcg(
        rank(ranker, history, evaluated, k=K, allowed=allowed, exclude_bought=False), relevant
    )
    top = rank(PersonalTopRanker(history), history, evaluated, k=K, allowed=allowed, exclude_bought=False)
    personal = per_customer_ndcg(top, relevant)
    frame = pd.DataFrame(
        {
            "mlp": mlp,
            "personal_top": personal,
            "orders": history.customer_stats[evaluated, 0],
            "distinct products": np.diff(history.bought.indptr)[evaluated],
            "share bought before": [
                len(items & owned) / len(items) for items, owned in zip(relevant, bought, strict=True)
            ],
        }
    )
    print(
        f"NDCG@10: MLP {mlp.mean():.4f}, personal top-frequency {personal.mean():.4f}, {len(frame)} customers"
    )
    bins = {
        "orders": [0, 1, 2, 4, 8, 16, 32, np.inf],
        "distinct products": [0, 10, 30, 60, 120, 250, np.inf],
        "share bought before": [-0.01, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
    }
    for column, edges in bins.items():
        table = frame.groupby(pd.cut(frame[column], edges), observed=True).agg(
            customers=("mlp", "size"), mlp=("mlp", "mean"), personal_top=("personal_top", "mean")
        )
        table["ratio"] = table["mlp"] / table["personal_top"]
        print(f"\nby {column}\n{table.round(4).to_string()}")

    scored = []
    for start, chunk, candidates in candidates_in_chunks(history, evaluated, config, allowed=allowed):
        row = np.searchsorted(chunk, candidates.customer)
        keys = candidates.customer * history.n_products + candidates.product
        is_new = ~_lookup(history.pair_keys, keys)[1]
        scored.append((start, row, candidates.product, ranker.score(candidates).astype(np.float64), is_new))
    print("\nserved lists (N=1): ordering, strength, all-items NDCG@10, never-bought NDCG@10")
    for name, strength, order in orderings():
        lists = np.full((len(evaluated), K), -1, dtype=np.int64)
        for start, row, product, scores, is_new in scored:
            ranked = np.lexsort((-history.popularity[product], -order(scores, is_new, row), row))
            kept = ranked[served_order(row[ranked], is_new[ranked], top_n=K, min_new=1)]
            position = position_in_row(row[kept])
            shown = position < K
            lists[start + row[kept][shown], position[shown]] = product[kept][shown]
        lists = fill_with_popular(lists, history, evaluated, allowed=allowed, exclude_bought=False)
        all_items = ranking_metrics(lists, relevant, k=K, catalogue_size=size)[f"ndcg@{K}"]
        never_bought = ranking_metrics(lists, new_relevant, k=K, catalogue_size=size)[f"ndcg@{K}"]
        print(f"{name:>13} {strength:<5g} {all_items:.4f} {never_bought:.4f}", flush=True)
    print(f"(the minimum holds in the first {DISCOVERY_PLACES} places)")


if __name__ == "__main__":
    main()

"""Basket completion on UCI Online Retail: the customer's stored list, the neighbours of the basket, and
the blend the product serves.

    .venv/bin/python bench/basket_completion.py [--parquet PATH] [--no-write]
    .venv/bin/python bench/basket_completion.py --parquet OTHER.parquet --validation 2010-10-01 2010-11-01 \
        --test 2010-11-01 2011-01-01 --defaults --section "Basket completion: ..."

For every invoice dated in a period with at least 4 distinct products, the first half of its distinct
products (in file order) is the basket; the rest are to be found. Each ranker gives 10 products that are
not in the basket:

- **stored list**: what the served version stored for the customer (the MLP's top N with the discovery
  setting of the product; the popular list for a guest or a customer it did not know);
- **basket neighbours**: the "bought together" neighbours of the basket items alone (cosine of being in
  the same order, as the product stores them);
- **served blend**: ``recommender.ml.realtime.blend`` of the two, the code the read path runs, keeping
  the stored list's discovery settings as the read path does.

The model is trained as the pipeline trains it, on everything before the period. The blend's weight and
fade (how much an earlier signal counts against the one after it) are chosen on a validation period
(October 2011, model trained on what came before) and then measured once on the protocol's test period
(from 2011-11-01), with the neighbours the product stores per product. Guest invoices (no customer id)
count, with no customer history. ``--defaults`` measures the product's defaults alone on both periods,
choosing nothing: the check on another file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bench_sections import replace_section  # noqa: E402
from recommender_quality import cpu_model  # noqa: E402

from recommender.ml import recommend, similar_products, train_recommender  # noqa: E402
from recommender.ml.realtime import DEFAULT_WEIGHT, SIGNAL_FADE, STORED_BY, Signal, blend  # noqa: E402
from recommender.ml.uci import NOT_PRODUCTS, PROTOCOL_CUTOFF, STOCK_CODE, load_uci_frames, read_uci  # noqa: E402

DEFAULT_PARQUET = ROOT / "data" / "online_retail_2010-12_2011-12.parquet"
VALIDATION = ("2011-10-01", "2011-11-01")
TEST = (PROTOCOL_CUTOFF, "2012-01-01")
WEIGHTS = (0.4, 0.5, 0.55, 0.6, 0.7, 0.8)
FADES = (0.5, 0.6, 0.7, 0.85)
STORED_BY_CHOICES = ("score", "rank")
# The neighbours the product stores and reads per product (recommender.services.scoring
# .NEIGHBOURS_PER_PRODUCT, the default of RECOMMENDER_REALTIME_NEIGHBOURS).
NEIGHBOURS = 12
K = 10
# The product's settings for the stored lists (retail_site/settings/base.py); the weight is the one a
# version trained before the test period chooses with RECOMMENDER_NEW_ITEM_WEIGHT "auto"
# (`recommender_quality.py --auto-weight 1`, BENCHMARKS.md "Recommender quality").
TOP_N, MIN_NEW_ITEMS, NEW_ITEM_WEIGHT = 20, 1, 1.8


def test_invoices(path: Path, start: str, end: str) -> pd.DataFrame:
    """invoice, customer_id (-1 for a guest), product_ids in file order (first appearance), from the
    raw file with the cleaning of ``load_uci_frames`` but keeping guests; product ids as it numbers them."""
    raw = read_uci(path)
    raw = raw[~raw["InvoiceNo"].astype(str).str.upper().str.startswith("C")]
    raw = raw[(raw["Quantity"] > 0) & (raw["UnitPrice"] > 0)]
    code = raw["StockCode"].astype(str).str.strip().str.upper()
    keep = code.str.fullmatch(STOCK_CODE) & ~code.isin(NOT_PRODUCTS)
    raw, code = raw[keep], code[keep]
    # load_uci_frames numbers the codes of customers' lines in sorted order, from 1.
    known_codes = np.sort(code[raw["CustomerID"].notna()].unique())
    number = {value: index + 1 for index, value in enumerate(known_codes)}
    at = pd.to_datetime(raw["InvoiceDate"])
    period = (at >= pd.Timestamp(start)) & (at < pd.Timestamp(end))
    raw, code = raw[period], code[period]
    rows = pd.DataFrame(
        {
            "invoice": raw["InvoiceNo"].astype(str).to_numpy(),
            "customer_id": raw["CustomerID"].fillna(-1).astype(np.int64).to_numpy(),
            "product_id": code.map(number).fillna(-1).astype(np.int64).to_numpy(),
            "code": code.to_numpy(),
        }
    )
    invoices = []
    for invoice, lines in rows.groupby("invoice", sort=False):
        ordered = list(dict.fromkeys(zip(lines["code"], lines["product_id"], strict=True)))
        if len(ordered) < 4:
            continue
        invoices.append(
            {
                "invoice": invoice,
                "customer_id": int(lines["customer_id"].iloc[0]),
                "product_ids": [product_id for _, product_id in ordered],
            }
        )
    return pd.DataFrame(invoices)


def metrics(ranked: list[list[int]], hidden: list[set[int]]) -> dict[str, float]:
    hits, recall, reciprocal = [], [], []
    for ranking, wanted in zip(ranked, hidden, strict=True):
        top = ranking[:K]
        found = [position for position, product_id in enumerate(top, start=1) if product_id in wanted]
        hits.append(1.0 if found else 0.0)
        recall.append(len(found) / len(wanted))
        reciprocal.append(1.0 / found[0] if found else 0.0)
    return {
        "hit_rate@10": float(np.mean(hits)),
        "recall@10": float(np.mean(recall)),
        "mrr@10": float(np.mean(reciprocal)),
    }


def served_state(path: Path, cutoff: str, customer_ids: np.ndarray, *, discovery: bool = True):
    """Train as the pipeline does on everything before ``cutoff``; the stored lists and the neighbours."""
    order_lines, products, customers = load_uci_frames(path)
    before = order_lines[order_lines["ordered_at"] < np.datetime64(cutoff)]
    started = time.monotonic()
    model = train_recommender(
        order_lines=before,
        products=products,
        customers=customers[customers["customer_id"].isin(before["customer_id"])],
    )
    trained = time.monotonic() - started
    stored = recommend(
        model,
        customer_ids=customer_ids,
        top_n=TOP_N,
        min_new_items=MIN_NEW_ITEMS if discovery else 0,
        new_item_weight=NEW_ITEM_WEIGHT if discovery else 1.0,
    )
    lists = {
        customer_id: list(zip(group["product_id"], group["score"], strict=True))
        for customer_id, group in stored.groupby("customer_id")
    }
    neighbours = similar_products(model, top_n=NEIGHBOURS)
    by_product = {
        product_id: list(zip(group["neighbour_id"], group["score"], strict=True))
        for product_id, group in neighbours.groupby("product_id")
    }
    bought = {
        customer_id: set(group["product_id"])
        for customer_id, group in before[before["customer_id"].isin(customer_ids)].groupby("customer_id")
    }
    return lists, by_product, bought, trained


def blend_name(weight: float, fade: float, stored_by: str) -> str:
    return f"served blend (weight={weight}, fade={fade}, stored by {stored_by})"


def evaluate(
    invoices: pd.DataFrame,
    lists,
    neighbours,
    bought,
    *,
    settings: list[tuple[float, float, str]],
    discovery: bool = True,
) -> dict:
    """The two sources alone, and the blend with each (weight, fade, stored_by) of ``settings``; with
    ``discovery``, the blend keeps the stored lists' discovery settings as the read path does (a guest
    has no purchases to tell new products from)."""
    baskets, hidden, stored, purchases = [], [], [], []
    guest = -1
    for invoice in invoices.itertuples():
        half = len(invoice.product_ids) // 2
        basket = invoice.product_ids[:half]
        # The last product added first, as the read path gives a basket.
        baskets.append([Signal(product_id, "basket") for product_id in reversed(basket)])
        hidden.append(set(invoice.product_ids[half:]) - set(basket))
        stored.append(lists.get(invoice.customer_id, lists.get(guest, [])))
        purchases.append(None if invoice.customer_id == guest else bought.get(invoice.customer_id, set()))
    exclude = [{signal.product_id for signal in basket} for basket in baskets]
    rules = {"new_item_weight": NEW_ITEM_WEIGHT, "min_new_items": MIN_NEW_ITEMS} if discovery else {}

    def ranked(
        rows_of, *, weight: float, fade: float, stored_by: str = STORED_BY, alone: bool = False
    ) -> list[list[int]]:
        return [
            [
                row.product_id
                for row in blend(
                    stored=rows,
                    signals=basket,
                    neighbours=neighbours,
                    limit=K,
                    weight=weight,
                    fade=fade,
                    stored_by=stored_by,
                    exclude=skip,
                    bought=None if alone else customer_bought,
                    **rules,
                )
            ]
            for rows, basket, skip, customer_bought in zip(rows_of, baskets, exclude, purchases, strict=True)
        ]

    results: dict = {
        "stored list": metrics(
            [[p for p, _ in rows if p not in skip][:K] for rows, skip in zip(stored, exclude, strict=True)],
            hidden,
        )
    }
    # Alone, the neighbours' order does not depend on the weight; it does on the fade.
    for fade in sorted({fade for _, fade, _ in settings}):
        results[f"basket neighbours (fade={fade})"] = metrics(
            ranked([[]] * len(baskets), weight=1.0, fade=fade, alone=True), hidden
        )
    for weight, fade, stored_by in settings:
        results[blend_name(weight, fade, stored_by)] = metrics(
            ranked(stored, weight=weight, fade=fade, stored_by=stored_by), hidden
        )
    return results


def run_period(path: Path, period: tuple[str, str], *, settings, discovery: bool = True) -> tuple[dict, dict]:
    invoices = test_invoices(path, *period)
    customer_ids = np.append(invoices["customer_id"].unique(), -1)
    lists, neighbours, bought, trained = served_state(path, period[0], customer_ids, discovery=discovery)
    results = evaluate(invoices, lists, neighbours, bought, settings=settings, discovery=discovery)
    facts = {
        "invoices": len(invoices),
        "guest invoices": int((invoices["customer_id"] == -1).sum()),
        "training s": round(trained),
    }
    return results, facts


def table(results: dict) -> list[str]:
    lines = ["| ranker | HitRate@10 | Recall@10 | MRR@10 |", "|---|---:|---:|---:|"]
    for name, values in results.items():
        lines.append(
            f"| {name} | {values['hit_rate@10']:.4f} | {values['recall@10']:.4f} | {values['mrr@10']:.4f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet", type=Path, default=DEFAULT_PARQUET)
    parser.add_argument("--validation", nargs=2, metavar=("START", "END"), default=VALIDATION)
    parser.add_argument("--test", nargs=2, metavar=("START", "END"), default=TEST)
    parser.add_argument(
        "--defaults",
        action="store_true",
        help="Measure the product's weight and fade only, choosing nothing (a check on another file).",
    )
    parser.add_argument(
        "--no-discovery",
        action="store_true",
        help="Stored lists without the discovery settings (the MLP's order alone), to see what they cost.",
    )
    parser.add_argument("--section", default="Basket completion", help="The BENCHMARKS.md section written.")
    parser.add_argument(
        "--no-write", action="store_true", help="Print the tables; leave BENCHMARKS.md alone."
    )
    args = parser.parse_args()
    validation_period, test_period = tuple(args.validation), tuple(args.test)

    grid = (
        [(DEFAULT_WEIGHT, SIGNAL_FADE, STORED_BY)]
        if args.defaults
        else [(weight, fade, by) for by in STORED_BY_CHOICES for fade in FADES for weight in WEIGHTS]
    )
    discovery = not args.no_discovery
    validation, validation_facts = run_period(
        args.parquet, validation_period, settings=grid, discovery=discovery
    )
    weight, fade, stored_by = max(grid, key=lambda setting: validation[blend_name(*setting)]["recall@10"])
    test, test_facts = run_period(
        args.parquet, test_period, settings=[(weight, fade, stored_by)], discovery=discovery
    )
    best_alone = max(test["stored list"]["recall@10"], test[f"basket neighbours (fade={fade})"]["recall@10"])
    gain = test[blend_name(weight, fade, stored_by)]["recall@10"] / best_alone - 1
    validation_best_alone = max(
        validation["stored list"]["recall@10"], validation[f"basket neighbours (fade={fade})"]["recall@10"]
    )
    validation_gain = validation[blend_name(weight, fade, stored_by)]["recall@10"] / validation_best_alone - 1
    chosen = (
        f"The product's defaults, weight {weight}, fade {fade}, stored list by {stored_by}, chosen on the "
        "other file's validation period; nothing chosen here."
        if args.defaults
        else f"Chosen: weight {weight}, fade {fade}, stored list by {stored_by} "
        "(best Recall@10 on validation)."
    )

    command = "  ".join(["python", *map(shlex.quote, ["bench/basket_completion.py", *sys.argv[1:]])])
    lines = [
        f"## {args.section}",
        "",
        (
            'The measure of "Basket completion" on another file, with the product\'s defaults and '
            "nothing chosen on this file."
            if args.defaults
            else __doc__.split("\n\n", 2)[2].strip()
        ),
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu_model()}), "
        f"on `{args.parquet.name}`, {NEIGHBOURS} neighbours per product:",
        "",
        "```",
        command,
        "```",
        "",
        f"### Validation: invoices {validation_period[0]} to {validation_period[1]} "
        f"({validation_facts['invoices']:,} invoices, {validation_facts['guest invoices']:,} of guests)",
        "",
        *table(validation),
        "",
        chosen,
        f"The blend against the better of the two alone on Recall@10: {validation_gain:+.1%}.",
        "",
        f"### Test: invoices {test_period[0]} to {test_period[1]} ({test_facts['invoices']:,} invoices, "
        f"{test_facts['guest invoices']:,} of guests)",
        "",
        *table(test),
        "",
        f"The served blend against the better of the two alone on Recall@10: {gain:+.1%} (target +10%).",
        "",
    ]
    print("\n".join(lines))
    if not args.no_write:
        replace_section(ROOT / "BENCHMARKS.md", f"## {args.section}", lines[2:])


if __name__ == "__main__":
    main()

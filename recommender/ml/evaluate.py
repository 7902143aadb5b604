"""The offline protocol: split by time, full ranking of every product seen before the cutoff, metrics @K."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from recommender.ml import baselines
from recommender.ml.config import TrainConfig
from recommender.ml.data import check_customers, check_events, check_products, clean_order_lines
from recommender.ml.discovery import (
    NEW_ITEM_WEIGHTS,
    POPULAR_MARGIN,
    bar_reached,
    choose_new_item_weight,
    popular_bars,
)
from recommender.ml.features import DAY, History, _lookup
from recommender.ml.model import WindowCache, cached_history, fit_mlp

METRIC_NAMES = ("ndcg", "recall", "hit_rate", "precision", "map")


def ranking_metrics(
    recommended: np.ndarray, relevant: list[set[int]] | list[np.ndarray], *, k: int, catalogue_size: int
) -> dict[str, float]:
    """Mean NDCG, recall, hit rate, precision and MAP @k, and catalogue coverage.

    ``recommended`` holds one row of product indices per customer, best first (-1 = empty slot);
    ``relevant`` the products each customer bought in the test period. Customers with nothing
    relevant are not counted.
    """
    recommended = np.asarray(recommended)[:, :k]
    sizes = np.array([len(items) for items in relevant])
    counted = sizes > 0
    if not counted.any():
        return {f"{name}@{k}": 0.0 for name in METRIC_NAMES} | {"coverage": 0.0, "customers": 0}
    hits = np.zeros(recommended.shape, dtype=bool)
    for row, items in enumerate(relevant):
        if len(items):
            hits[row] = np.isin(recommended[row], np.fromiter(items, dtype=np.int64)) & (
                recommended[row] >= 0
            )
    hits, sizes, shown = hits[counted], sizes[counted], recommended[counted]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discount)[np.minimum(sizes, k) - 1]
    ndcg = (hits * discount).sum(axis=1) / ideal
    found = hits.sum(axis=1)
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    average_precision = (precision_at * hits).sum(axis=1) / np.minimum(sizes, k)
    distinct = np.unique(shown[shown >= 0])
    return {
        f"ndcg@{k}": float(ndcg.mean()),
        f"recall@{k}": float((found / sizes).mean()),
        f"hit_rate@{k}": float((found > 0).mean()),
        f"precision@{k}": float((found / k).mean()),
        f"map@{k}": float(average_precision.mean()),
        "coverage": float(len(distinct) / max(catalogue_size, 1)),
        "customers": int(counted.sum()),
    }


def fill_with_popular(
    top: np.ndarray, history: History, customers: np.ndarray, *, allowed: np.ndarray, exclude_bought: bool
) -> np.ndarray:
    """Empty slots (-1) take the most popular allowed products not already in the row."""
    missing_rows = np.flatnonzero((top < 0).any(axis=1))
    if not len(missing_rows):
        return top
    order = np.argsort(-history.popularity, kind="stable")
    order = order[allowed[order]]
    for row in missing_rows:
        taken = set(top[row][top[row] >= 0].tolist())
        if exclude_bought:
            bought = history.bought[customers[row]]
            taken.update(bought.indices.tolist())
        slots = np.flatnonzero(top[row] < 0)
        fill = [product for product in order[: len(taken) + len(slots) + 1] if product not in taken]
        top[row, slots[: len(fill)]] = fill[: len(slots)]
    return top


def rank(
    ranker,
    history: History,
    customers: np.ndarray,
    *,
    k: int,
    allowed: np.ndarray,
    exclude_bought: bool,
    chunk: int = 2000,
    min_new_items: int = 0,
    new_item_weight: float = 1.0,
) -> np.ndarray:
    parts = []
    extra: dict = {"min_new_items": min_new_items} if min_new_items else {}
    if new_item_weight != 1.0:
        extra["new_item_weight"] = new_item_weight
    for start in range(0, len(customers), chunk):
        part = customers[start : start + chunk]
        top = ranker.top_k(part, k=k, allowed=allowed, exclude_bought=exclude_bought, **extra)
        parts.append(fill_with_popular(top, history, part, allowed=allowed, exclude_bought=exclude_bought))
    return np.concatenate(parts) if parts else np.zeros((0, k), dtype=np.int64)


def served_lists(
    ranker,
    history: History,
    customers: np.ndarray,
    *,
    k: int,
    allowed: np.ndarray,
    min_new_items: int,
    weights: tuple[float, ...],
) -> dict[float, np.ndarray]:
    """The MLP's lists as served (bought products allowed) at each ``new_item_weight`` of ``weights``,
    the network scoring each candidate once (``MlpRanker.served_tops``); places the candidates leave
    empty take popular products, as in ``rank``."""
    tops = ranker.served_tops(customers, k=k, allowed=allowed, min_new_items=min_new_items, weights=weights)
    return {
        weight: fill_with_popular(top, history, customers, allowed=allowed, exclude_bought=False)
        for weight, top in tops.items()
    }


def prepare_frames(
    order_lines: pd.DataFrame, products: pd.DataFrame, customers: pd.DataFrame, events: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    lines = clean_order_lines(order_lines)
    return lines, check_products(products, lines), check_customers(customers, lines), check_events(events)


def evaluate_protocol(
    *,
    order_lines: pd.DataFrame,
    products: pd.DataFrame,
    customers: pd.DataFrame,
    cutoff: np.datetime64 | pd.Timestamp | str,
    events: pd.DataFrame | None = None,
    config: TrainConfig | None = None,
    end: np.datetime64 | pd.Timestamp | str | None = None,
    include_mlp: bool = True,
    progress: Callable[[float, str], None] | None = None,
    prepared: bool = False,
    cache: WindowCache | None = None,
    served_min_new_items: tuple[int, ...] = (),
    served_new_item_weights: tuple[float, ...] = (1.0,),
    discovery_min_new_items: int | None = None,
) -> dict:
    """Train on everything before ``cutoff`` and measure on [cutoff, end): the MLP and every baseline.

    Returns the metrics dict of ``TrainedRecommender.metrics`` plus ``counts``, ``timings`` and,
    under ``"_ranker"``, the fitted MLP ranker (for reuse, not for storing); ``"_evaluated"``,
    ``"_relevant"`` and ``"_new_relevant"`` say whom it measured on what. ``cache`` keeps the
    Histories and label windows for a later run on the same frames (``train_recommender``).
    For each number in ``served_min_new_items``, ``metrics["mlp_served"][str(number)]`` measures the
    MLP's lists as they are served (bought products allowed) holding at least that many new
    products: all items and, on the same lists, new items; with each further weight of
    ``served_new_item_weights`` (``new_item_weight`` of ``recommend``) under ``"N@weight"``.
    With ``discovery_min_new_items`` the MLP's served lists holding that many new products are
    measured at each weight of ``discovery.NEW_ITEM_WEIGHTS`` and one is chosen
    (``discovery.choose_new_item_weight``), returned under ``"discovery"``.
    """
    config = config or TrainConfig()
    timings: dict[str, float] = {}

    def report(fraction: float, message: str) -> None:
        if progress:
            progress(min(max(fraction, 0.0), 1.0), message)

    started = time.monotonic()
    if not prepared:
        order_lines, products, customers, events = prepare_frames(order_lines, products, customers, events)
    cutoff = np.datetime64(pd.Timestamp(cutoff).to_datetime64(), "ns")
    at = order_lines["ordered_at"].to_numpy()
    end = np.datetime64(pd.Timestamp(end).to_datetime64(), "ns") if end is not None else at.max() + DAY
    before = order_lines[at < cutoff]
    after = order_lines[(at >= cutoff) & (at < end)]
    report(0.02, "building features at the cutoff")
    history = cached_history(
        cache,
        order_lines=before,
        products=products,
        customers=customers,
        events=events,
        cutoff=cutoff,
        config=config,
    )
    timings["history_seconds"] = time.monotonic() - started

    c, c_found = history.customer_index(after["customer_id"].to_numpy())
    p, p_found = history.product_index(after["product_id"].to_numpy())
    keep = c_found & p_found
    c, p = c[keep], p[keep]
    keep = history.product_seen[p] & history.has_history(c)
    pairs = pd.DataFrame({"c": c[keep], "p": p[keep]}).drop_duplicates().sort_values(["c", "p"])
    evaluated = pairs["c"].unique()
    relevant_by_customer = pairs.groupby("c")["p"].apply(np.asarray)
    relevant = [set(relevant_by_customer[customer].tolist()) for customer in evaluated]
    new_relevant = [
        items - set(history.bought[customer].indices.tolist())
        for customer, items in zip(evaluated, relevant, strict=True)
    ]
    catalogue = history.product_seen
    counts = {
        "order_lines_before_cutoff": int(len(before)),
        "customers_before_cutoff": int(before["customer_id"].nunique()),
        "products_before_cutoff": int(catalogue.sum()),
        "order_lines_after_cutoff": int(len(after)),
        "evaluated_customers": int(len(evaluated)),
        "evaluated_customers_new_items": int(sum(1 for items in new_relevant if items)),
    }
    metrics: dict = {}

    def measure(name: str, ranker) -> None:
        began = time.monotonic()
        top = rank(ranker, history, evaluated, k=config.top_k, allowed=catalogue, exclude_bought=False)
        top_new = rank(ranker, history, evaluated, k=config.top_k, allowed=catalogue, exclude_bought=True)
        result = ranking_metrics(top, relevant, k=config.top_k, catalogue_size=int(catalogue.sum()))
        result.pop("customers")
        new = ranking_metrics(top_new, new_relevant, k=config.top_k, catalogue_size=int(catalogue.sum()))
        new.pop("customers")
        # the same list as served (bought products allowed), measured on the never-bought purchases
        served_new = ranking_metrics(top, new_relevant, k=config.top_k, catalogue_size=int(catalogue.sum()))
        metrics[name] = result | {
            "new_items": new,
            f"served_new_ndcg@{config.top_k}": served_new[f"ndcg@{config.top_k}"],
        }
        timings[f"{name}_scoring_seconds"] = time.monotonic() - began

    rankers: list[tuple[str, Callable[[], object]]] = [
        ("popular", lambda: baselines.PopularRanker(history)),
        ("personal_top", lambda: baselines.PersonalTopRanker(history)),
        ("item_knn", lambda: baselines.ItemKnnRanker(history)),
    ]
    if config.run_als:
        rankers.append(
            (
                "als",
                lambda: baselines.AlsRanker(
                    history, factors=config.als_factors, iterations=config.als_iterations, seed=config.seed
                ),
            )
        )
    for index, (name, make) in enumerate(rankers):
        report(0.05 + 0.1 * index / len(rankers), f"baseline {name}")
        began = time.monotonic()
        try:
            ranker = make()
        except Exception as error:  # a baseline that cannot run is reported, never fatal
            metrics[name] = {"error": f"{type(error).__name__}: {error}"}
            continue
        timings[f"{name}_training_seconds"] = time.monotonic() - began
        measure(name, ranker)

    fitted_ranker = None
    info: dict = {}
    discovery: dict | None = None
    if include_mlp:
        began = time.monotonic()
        fitted_ranker, _, info = fit_mlp(
            order_lines=before,
            products=products,
            customers=customers,
            events=events,
            cutoff=cutoff,
            config=config,
            progress=lambda fraction, message: report(0.15 + 0.8 * fraction, message),
            cache=cache,
        )
        timings["mlp_training_seconds"] = time.monotonic() - began
        report(0.96, "measuring the MLP on the held-out period")
        measure("mlp", fitted_ranker)
        served: dict[str, dict] = {}
        tops = {
            int(min_new): served_lists(
                fitted_ranker,
                history,
                evaluated,
                k=config.top_k,
                allowed=catalogue,
                min_new_items=int(min_new),
                weights=tuple(float(weight) for weight in served_new_item_weights),
            )
            for min_new in served_min_new_items
        }
        lists = [(int(n), float(w)) for w in served_new_item_weights for n in served_min_new_items]
        for min_new, weight in lists:
            top = tops[min_new][weight]
            size = int(catalogue.sum())
            result = ranking_metrics(top, relevant, k=config.top_k, catalogue_size=size)
            new = ranking_metrics(top, new_relevant, k=config.top_k, catalogue_size=size)
            result.pop("customers")
            new.pop("customers")
            shown = top >= 0
            keys = evaluated[:, None] * history.n_products + np.maximum(top, 0)
            never_bought = ~_lookup(history.pair_keys, keys.ravel())[1].reshape(top.shape) & shown
            served[str(min_new) if weight == 1.0 else f"{min_new}@{weight:g}"] = result | {
                "new_items": new,
                "new_per_list": float(never_bought.sum(axis=1).mean()) if len(top) else 0.0,
            }
        if served:
            metrics["mlp_served"] = served
        popular = metrics.get("popular")
        if discovery_min_new_items is not None and popular is not None:
            report(0.98, "choosing the served lists' weight of never-bought products")
            began = time.monotonic()
            discovery = _choose_discovery(
                fitted_ranker,
                history,
                evaluated,
                relevant,
                new_relevant,
                k=config.top_k,
                allowed=catalogue,
                min_new_items=discovery_min_new_items,
                popular_served_new_ndcg=popular[f"served_new_ndcg@{config.top_k}"],
                popular_new_ndcg=popular["new_items"][f"ndcg@{config.top_k}"],
            )
            timings["discovery_seconds"] = time.monotonic() - began
    metrics["evaluated_customers"] = counts["evaluated_customers"]
    metrics["cutoff"] = pd.Timestamp(cutoff).isoformat()
    metrics["end"] = pd.Timestamp(end).isoformat()
    metrics["k"] = config.top_k
    timings["protocol_seconds"] = time.monotonic() - started
    report(1.0, "evaluation done")
    return {
        "metrics": metrics,
        "counts": counts,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "training": info,
        "discovery": discovery,
        "_ranker": fitted_ranker,
        # what was measured, for a bench that looks closer: customers (History indices) and the
        # products each bought in the period, all and never bought before
        "_evaluated": evaluated,
        "_relevant": relevant,
        "_new_relevant": new_relevant,
    }


def _choose_discovery(
    ranker,
    history: History,
    evaluated: np.ndarray,
    relevant: list[set],
    new_relevant: list[set],
    *,
    k: int,
    allowed: np.ndarray,
    min_new_items: int,
    popular_served_new_ndcg: float,
    popular_new_ndcg: float,
) -> dict:
    """The MLP's served lists at each of ``NEW_ITEM_WEIGHTS`` on the held-out period (all items and
    never-bought purchases, NDCG@k) and the weight ``choose_new_item_weight`` takes from them, against
    Popular's served list and Popular's never-bought ranking there (``popular_bars``)."""
    tops = served_lists(
        ranker,
        history,
        evaluated,
        k=k,
        allowed=allowed,
        min_new_items=min_new_items,
        weights=NEW_ITEM_WEIGHTS,
    )
    size = int(allowed.sum())
    bars = popular_bars(popular_served_new_ndcg, popular_new_ndcg)
    by_weight: dict[float, dict] = {}
    for weight, top in tops.items():
        new = ranking_metrics(top, new_relevant, k=k, catalogue_size=size)[f"ndcg@{k}"]
        by_weight[weight] = {
            f"ndcg@{k}": ranking_metrics(top, relevant, k=k, catalogue_size=size)[f"ndcg@{k}"],
            f"new_ndcg@{k}": new,
            "bar_reached": bar_reached(new, bars),
        }
    chosen = choose_new_item_weight(
        {weight: values[f"new_ndcg@{k}"] for weight, values in by_weight.items()}, bars
    )
    return {
        "min_new_items": min_new_items,
        f"popular_served_new_ndcg@{k}": popular_served_new_ndcg,
        f"popular_new_ndcg@{k}": popular_new_ndcg,
        "margin": POPULAR_MARGIN,
        "bars": bars,
        "bar_reached": by_weight[chosen]["bar_reached"],
        "by_weight": {f"{weight:g}": values for weight, values in by_weight.items()},
        "new_item_weight": chosen,
    }

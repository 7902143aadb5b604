"""Serving from a trained recommender: top N per customer after business rules, pair scores, neighbours."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from recommender.ml.discovery import keep_new_items, new_item_order, served_order
from recommender.ml.explain import co_purchase_sources, explain_features, explanation_documents
from recommender.ml.features import Candidates, _lookup, generate_candidates, pair_features
from recommender.ml.model import _subset
from recommender.ml.reasons import POPULAR, POPULAR_IN_COUNTRY, explain
from recommender.ml.train import TrainedRecommender

RECOMMENDATION_COLUMNS = ("customer_id", "product_id", "rank", "score", "reason")
__all__ = [
    "keep_new_items",
    "new_item_order",
    "popular_products",
    "recommend",
    "score_pairs",
    "similar_products",
]


def _available_mask(model: TrainedRecommender, available_product_ids: np.ndarray | None) -> np.ndarray:
    history = model.history
    if available_product_ids is None:
        known = model.products.set_index("product_id").reindex(history.product_ids)
        return (known["active"].fillna(False) & known["in_stock"].fillna(False)).to_numpy(dtype=bool)
    available = np.asarray(available_product_ids, dtype=np.int64)
    return np.isin(history.product_ids, available)


def _empty_recommendations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype=np.int64),
            "product_id": pd.Series([], dtype=np.int64),
            "rank": pd.Series([], dtype=np.int64),
            "score": pd.Series([], dtype=np.float64),
            "reason": pd.Series([], dtype=object),
        }
    )


def _cap_and_cut(
    frame: pd.DataFrame, *, top_n: int, max_per_category: int, min_new_items: int = 0
) -> pd.DataFrame:
    """``frame`` (row, product, score, category, new, ...), best first per row -> top N within
    category caps, holding at least ``min_new_items`` new products in its first places
    (``discovery.served_order``) where the row has them."""
    if max_per_category > 0:
        capped = frame["category"] >= 0
        within = frame.groupby(["row", "category"], sort=False).cumcount()
        frame = frame[~capped | (within < max_per_category)]
    if min_new_items > 0 and "new" in frame:
        served = served_order(
            frame["row"].to_numpy(), frame["new"].to_numpy(), top_n=top_n, min_new=min_new_items
        )
        frame = frame.iloc[served]
    frame = frame.assign(rank=frame.groupby("row", sort=False).cumcount() + 1)
    return frame[frame["rank"] <= top_n]


def recommend(
    model: TrainedRecommender,
    *,
    customer_ids: np.ndarray,
    top_n: int = 20,
    available_product_ids: np.ndarray | None = None,
    allow_bought: bool = True,
    max_per_category: int = 0,
    min_new_items: int = 0,
    new_item_weight: float = 1.0,
    batch_size: int = 2000,
    explanations: bool = False,
    progress: Callable[[float, str], None] | None = None,
) -> pd.DataFrame:
    """Top ``top_n`` products per customer: customer_id, product_id, rank (1..), score (0..1), reason.

    Only products in ``available_product_ids`` are shown (default: active and in stock at training).
    With bought products allowed, each list's first ``discovery.DISCOVERY_PLACES`` places hold at least
    ``min_new_items`` products the customer never bought (the ranker's best new ones) where its
    candidates have that many (``discovery.served_order``).
    Lists are ordered by the network's score, a never-bought product's multiplied by
    ``new_item_weight`` (1 = the score alone; 2 = a new product counts as much as a repeat twice as
    likely to be bought); the ``score`` column stays the network's.
    Customers without a purchase history get popular-in-country, then popular overall. A list can
    be shorter than ``top_n`` when the rules leave fewer products.

    With ``explanations``, an ``explanation`` column holds, for each row the network scored, which
    inputs drove its score (``explain.explanation_documents``: integrated gradients, computed for the
    rows kept only); cold-start rows, which the network did not score, hold None.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if max_per_category < 0:
        raise ValueError(f"max_per_category must be 0 (no cap) or more, got {max_per_category}")
    if min_new_items < 0:
        raise ValueError(f"min_new_items must be 0 or more, got {min_new_items}")
    if not new_item_weight > 0:
        raise ValueError(f"new_item_weight must be more than 0, got {new_item_weight}")
    customer_ids = np.unique(np.asarray(customer_ids, dtype=np.int64))
    history, config = model.history, model.config
    allowed = _available_mask(model, available_product_ids)
    index, found = history.customer_index(customer_ids)
    known = found.copy()
    known[found] = history.has_history(index[found])
    parts: list[pd.DataFrame] = []
    known_customers = index[known]
    total_chunks = max(1, -(-len(customer_ids) // batch_size))
    for done, start in enumerate(range(0, len(known_customers), batch_size), start=1):
        chunk = known_customers[start : start + batch_size]
        candidates = generate_candidates(
            history, chunk, allowed=allowed, exclude_bought=not allow_bought, **config.candidate_sources
        )
        scores = model.ranker.score(candidates)
        new = ~_lookup(history.pair_keys, candidates.customer * history.n_products + candidates.product)[1]
        frame = pd.DataFrame(
            {
                "row": candidates.customer,
                "product": candidates.product,
                "score": scores,
                "order_by": new_item_order(scores, new, new_item_weight),
                "popularity": history.popularity[candidates.product],
                "category": history.product_category[candidates.product],
                "from_popular": candidates.from_popular,
                "from_country": candidates.from_country_popular,
                "new": new,
            }
        ).sort_values(
            ["row", "order_by", "popularity", "product"], ascending=[True, False, False, True], kind="stable"
        )
        frame = _cap_and_cut(
            frame, top_n=top_n, max_per_category=max_per_category, min_new_items=min_new_items
        )
        reasons = explain(
            history,
            frame["row"].to_numpy(),
            frame["product"].to_numpy(),
            from_popular=frame["from_popular"].to_numpy(),
            from_country_popular=frame["from_country"].to_numpy(),
        )
        part = pd.DataFrame(
            {
                "customer_id": history.customer_ids[frame["row"].to_numpy()],
                "product_id": history.product_ids[frame["product"].to_numpy()],
                "rank": frame["rank"].to_numpy(dtype=np.int64),
                "score": frame["score"].to_numpy(dtype=np.float64),
                "reason": reasons,
            }
        )
        if explanations:
            part["explanation"] = _explanations(model, candidates, frame)
        parts.append(part)
        if progress:
            progress(
                min(done / total_chunks, 1.0),
                f"scored {min(start + batch_size, len(known_customers))} of {len(customer_ids)} customers",
            )
    cold = customer_ids[~known]
    if len(cold):
        country = np.full(len(cold), -1, dtype=np.int64)
        in_index = found[~known]
        country[in_index] = history.customer_country[index[~known][in_index]]
        cold_rows = _cold_start(
            model, cold, country, allowed=allowed, top_n=top_n, max_per_category=max_per_category
        )
        if explanations:
            cold_rows["explanation"] = None
        parts.append(cold_rows)
    if progress:
        progress(1.0, f"scored {len(customer_ids)} customers")
    if not parts:
        empty = _empty_recommendations()
        if explanations:
            empty["explanation"] = pd.Series([], dtype=object)
        return empty
    result = pd.concat(parts, ignore_index=True)
    return result.sort_values(["customer_id", "rank"], ignore_index=True)


def _explanations(model: TrainedRecommender, candidates: Candidates, frame: pd.DataFrame) -> list[dict]:
    """Explanation documents of the rows of ``frame`` (indexed by their position in ``candidates``)."""
    kept = _subset(candidates, frame.index.to_numpy())
    attributions = explain_features(model.ranker, pair_features(model.history, kept))
    return explanation_documents(
        attributions,
        scores=frame["score"].to_numpy(dtype=np.float64),
        co_purchase=co_purchase_sources(model.history, kept.customer, kept.product),
    )


def _cold_start(
    model: TrainedRecommender,
    customer_ids: np.ndarray,
    country: np.ndarray,
    *,
    allowed: np.ndarray,
    top_n: int,
    max_per_category: int,
) -> pd.DataFrame:
    """Popular in the customer's country first, then popular overall; one list per country."""
    history = model.history
    overall = history.popularity / max(float(history.popularity.max(initial=0.0)), 1e-9)
    parts = []
    for country_index in np.unique(country):
        members = customer_ids[country == country_index]
        if country_index >= 0:
            share = history.country_popularity[country_index].astype(np.float64)
        else:
            share = np.zeros(history.n_products)
        usable = allowed & history.product_seen
        in_country = usable & (share > 0)
        first = np.flatnonzero(in_country)
        first = first[np.lexsort((-history.popularity[first], -share[first]))]
        rest = np.flatnonzero(usable & ~in_country)
        rest = rest[np.argsort(-history.popularity[rest], kind="stable")]
        products = np.concatenate([first, rest])
        scores = np.concatenate([share[first], overall[rest]])
        scores = np.minimum.accumulate(np.clip(scores, 0.0, 1.0)) if len(scores) else scores
        reasons = np.array([POPULAR_IN_COUNTRY] * len(first) + [POPULAR] * len(rest), dtype=object)
        frame = pd.DataFrame(
            {
                "row": 0,
                "product": products,
                "score": scores,
                "reason": reasons,
                "category": history.product_category[products],
            }
        )
        frame = _cap_and_cut(frame, top_n=top_n, max_per_category=max_per_category)
        block = pd.DataFrame(
            {
                "customer_id": np.repeat(members, len(frame)),
                "product_id": np.tile(history.product_ids[frame["product"].to_numpy()], len(members)),
                "rank": np.tile(frame["rank"].to_numpy(dtype=np.int64), len(members)),
                "score": np.tile(frame["score"].to_numpy(dtype=np.float64), len(members)),
                "reason": np.tile(frame["reason"].to_numpy(), len(members)),
            }
        )
        parts.append(block)
    return pd.concat(parts, ignore_index=True) if parts else _empty_recommendations()


def score_pairs(
    model: TrainedRecommender, *, customer_ids: np.ndarray, product_ids: np.ndarray, batch_size: int = 2000
) -> np.ndarray:
    """Purchase probability for every customer x product (rows: ``customer_ids``, columns: ``product_ids``).

    Any product the model knows can be scored, candidate or not; a product it has never heard of
    scores 0. Customers it does not know are scored as customers without history.
    """
    customer_ids = np.asarray(customer_ids, dtype=np.int64)
    product_ids = np.asarray(product_ids, dtype=np.int64)
    history, config = model.history, model.config
    result = np.zeros((len(customer_ids), len(product_ids)), dtype=np.float32)
    if not len(customer_ids) or not len(product_ids):
        return result
    product_index, product_found = history.product_index(product_ids)
    columns = np.flatnonzero(product_found)
    if not len(columns):
        return result
    wanted = product_index[columns]
    unique_wanted, column_of = np.unique(wanted, return_inverse=True)
    customer_index, customer_found = history.customer_index(customer_ids)
    everything = np.ones(history.n_products, dtype=bool)
    rows_known = np.flatnonzero(customer_found)
    for start in range(0, len(rows_known), batch_size):
        rows = rows_known[start : start + batch_size]
        chunk, back = np.unique(customer_index[rows], return_inverse=True)
        candidates = generate_candidates(
            history, chunk, allowed=everything, products=unique_wanted, **config.candidate_sources
        )
        scores = model.ranker.score(candidates)
        grid = np.zeros((len(chunk), len(unique_wanted)), dtype=np.float32)
        grid[
            np.searchsorted(chunk, candidates.customer), np.searchsorted(unique_wanted, candidates.product)
        ] = scores
        result[np.ix_(rows, columns)] = grid[back][:, column_of]
    rows_unknown = np.flatnonzero(~customer_found)
    if len(rows_unknown):
        popular_top = np.zeros(history.n_products, dtype=bool)
        popular_top[np.argsort(-history.popularity, kind="stable")[: config.popular]] = True
        n = len(unique_wanted)
        blank = Candidates(
            customer=np.full(n, -1, dtype=np.int64),
            product=unique_wanted,
            co_purchase=np.zeros(n, np.float32),
            co_purchase_best=np.zeros(n, np.float32),
            country_popularity=np.zeros(n, np.float32),
            from_co_purchase=np.zeros(n, bool),
            from_country_popular=np.zeros(n, bool),
            from_popular=popular_top[unique_wanted],
        )
        scores = model.ranker.score(blank)
        result[np.ix_(rows_unknown, columns)] = scores[column_of][None, :]
    return result


def similar_products(
    model: TrainedRecommender, *, top_n: int = 10, available_product_ids: np.ndarray | None = None
) -> pd.DataFrame:
    """ "Bought together": product_id, neighbour_id, rank, score (cosine of being in the same order,
    0..1; same-customer co-purchase for an artifact that predates it)."""
    history = model.history
    similar = (model.bought_together if model.bought_together is not None else history.similar).tocoo()
    allowed = (
        np.ones(history.n_products, dtype=bool)
        if available_product_ids is None
        else np.isin(history.product_ids, np.asarray(available_product_ids, dtype=np.int64))
    )
    frame = pd.DataFrame({"product": similar.row, "neighbour": similar.col, "score": similar.data})
    frame = frame[allowed[frame["neighbour"].to_numpy()] & (frame["score"] > 0)]
    frame = frame.sort_values(["product", "score", "neighbour"], ascending=[True, False, True])
    frame = frame.assign(rank=frame.groupby("product").cumcount() + 1)
    frame = frame[frame["rank"] <= top_n]
    return pd.DataFrame(
        {
            "product_id": history.product_ids[frame["product"].to_numpy()],
            "neighbour_id": history.product_ids[frame["neighbour"].to_numpy()],
            "rank": frame["rank"].to_numpy(dtype=np.int64),
            "score": np.clip(frame["score"].to_numpy(dtype=np.float64), 0.0, 1.0),
        }
    ).reset_index(drop=True)


def popular_products(
    model: TrainedRecommender, *, top_n: int = 50, available_product_ids: np.ndarray | None = None
) -> pd.DataFrame:
    """Cold-start lists: country ('' = overall), product_id, rank, score (share of recent buyers)."""
    history = model.history
    usable = history.product_seen.copy()
    if available_product_ids is not None:
        usable &= np.isin(history.product_ids, np.asarray(available_product_ids, dtype=np.int64))
    recent_buyers = max(float(np.count_nonzero(history.customer_stats[:, 3])), 1.0)
    lists = [("", np.clip(history.product_stats[:, 2] / recent_buyers, 0.0, 1.0), history.popularity)]
    for index, country in enumerate(history.countries):
        if country:
            lists.append(
                (str(country), history.country_popularity[index].astype(np.float64), history.popularity)
            )
    parts = []
    for country, share, tiebreak in lists:
        products = np.flatnonzero(usable & (share > 0))
        products = products[np.lexsort((products, -tiebreak[products], -share[products]))][:top_n]
        if not len(products):
            continue
        parts.append(
            pd.DataFrame(
                {
                    "country": country,
                    "product_id": history.product_ids[products],
                    "rank": np.arange(1, len(products) + 1, dtype=np.int64),
                    "score": share[products],
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "country": pd.Series([], dtype=object),
                "product_id": pd.Series([], dtype=np.int64),
                "rank": pd.Series([], dtype=np.int64),
                "score": pd.Series([], dtype=np.float64),
            }
        )
    return pd.concat(parts, ignore_index=True)

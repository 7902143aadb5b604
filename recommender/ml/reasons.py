"""Readable reasons for a recommended pair, true for that customer and product.

A reason is plain text that may carry one placeholder the caller renders with a name:
``{product:<product_id>}`` (e.g. "Often bought with {product:123}") or ``{category:<category_id>}``
(e.g. "Popular in {category:7}"). Ids are the ones given in the input frames.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from recommender.ml.features import History, _lookup

BUY_REGULARLY = "You buy this regularly"
BOUGHT_BEFORE = "You bought this before"
BOUGHT_WITH = "Often bought with {product:%d}"
POPULAR_IN_COUNTRY = "Popular in your country"
POPULAR_IN_CATEGORY = "Popular in {category:%d}"
TRENDING = "Trending now"
POPULAR = "Popular right now"
PICKED = "Picked for you"

REGULAR_ORDERS = 3  # bought in this many orders counts as "regularly"
PLACEHOLDER = re.compile(r"\{(product|category):(-?\d+)\}")


def render_reason(reason: str, *, product_names: dict[int, str], category_names: dict[int, str]) -> str:
    """Put names in the placeholders (unknown ids read "a product you bought" / "its category")."""

    def name(match: re.Match) -> str:
        kind, identifier = match.group(1), int(match.group(2))
        if kind == "product":
            return product_names.get(identifier, "a product you bought")
        return category_names.get(identifier, "its category")

    return PLACEHOLDER.sub(name, reason)


def explain(
    history: History,
    customers: np.ndarray,
    products: np.ndarray,
    *,
    from_popular: np.ndarray,
    from_country_popular: np.ndarray,
) -> np.ndarray:
    """One reason per (customer index, product index) pair."""
    n = len(customers)
    reasons = np.full(n, PICKED, dtype=object)
    if n == 0:
        return reasons
    position, bought = _lookup(history.pair_keys, customers * history.n_products + products)
    times = np.where(bought, history.pair_stats[position, 0] if len(history.pair_stats) else 0, 0)
    decided = bought.copy()
    reasons[bought & (times >= REGULAR_ORDERS)] = BUY_REGULARLY
    reasons[bought & (times < REGULAR_ORDERS)] = BOUGHT_BEFORE

    open_rows = np.flatnonzero(~decided)
    if len(open_rows):
        # the product of the customer's history that contributes most to the co-purchase score
        contribution = (
            history.bought[customers[open_rows]]
            .multiply(history.similar.T.tocsr()[products[open_rows]])
            .tocsr()
        )
        counts = np.diff(contribution.indptr)
        has = counts > 0
        if has.any():
            # the first product reaching each row's highest contribution
            row_of_entry = np.repeat(np.arange(len(open_rows)), counts)
            row_best = np.maximum.reduceat(contribution.data, contribution.indptr[:-1][has])
            best_value = np.zeros(len(open_rows), dtype=contribution.data.dtype)
            best_value[has] = row_best
            at_best = np.flatnonzero(contribution.data == best_value[row_of_entry])
            rows, first = np.unique(row_of_entry[at_best], return_index=True)
            best = contribution.indices[at_best[first]]
            chosen = open_rows[rows]
            reasons[chosen] = [BOUGHT_WITH % product_id for product_id in history.product_ids[best]]
            decided[chosen] = True

    open_rows = ~decided & from_country_popular
    reasons[open_rows] = POPULAR_IN_COUNTRY
    decided |= open_rows

    category = history.product_category[products]
    stats = history.product_stats[products]
    trending = (stats[:, 1] >= 3) & (stats[:, 1] > 1.5 * stats[:, 2] / 3.0)
    top_in_category = _top_in_category(history)
    open_rows = ~decided & (category >= 0) & top_in_category[products]
    reasons[open_rows] = [POPULAR_IN_CATEGORY % history.categories[index] for index in category[open_rows]]
    decided |= open_rows
    open_rows = ~decided & trending
    reasons[open_rows] = TRENDING
    decided |= open_rows
    reasons[~decided & from_popular] = POPULAR
    return reasons


def _top_in_category(history: History, top: int = 20) -> np.ndarray:
    """True for products among the ``top`` most popular of their category."""
    result = np.zeros(history.n_products, dtype=bool)
    with_category = np.flatnonzero((history.product_category >= 0) & history.product_seen)
    if not len(with_category):
        return result
    order = with_category[
        np.lexsort((-history.popularity[with_category], history.product_category[with_category]))
    ]
    category = history.product_category[order]
    starts = np.r_[0, np.flatnonzero(np.diff(category)) + 1]
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    result[order[position < top]] = True
    return result


__all__ = ["explain", "render_reason", "sp"]

"""The discovery rules of served lists: never-bought products weighed up, and a minimum of them.

Applied by ``score.recommend`` (served lists) and by the MLP ranker when the protocol measures them;
kept apart so that both can use it without importing each other.
"""

from __future__ import annotations

import numpy as np


def new_item_order(scores: np.ndarray, is_new: np.ndarray, weight: float) -> np.ndarray:
    """The value served lists are ordered by: the ranker's score, a never-bought product's times ``weight``.

    The network scores the chance of a purchase, and a repeat purchase is the likelier kind, so its
    order alone fills a regular customer's list with what they already buy. A weight above 1 gives a
    product the customer has not found yet the place of a repeat ``weight`` times as likely: it comes
    first where the model thinks it nearly as likely, never for a product it scores as improbable.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if weight == 1.0:
        return scores
    return np.where(np.asarray(is_new, dtype=bool), scores * weight, scores)


# The weights a training measures the served lists at on its held-out month, and by how much their
# never-bought purchases found (NDCG@10) must beat Popular's there for a weight to be chosen
# (``choose_new_item_weight``). Popular is measured two ways: its list as served (its bestsellers,
# some of which the customer already buys) and its ranking of the products the customer never bought
# (ten of them a list, the protocol's "new items" figure). On UCI the weight that clears Popular's
# served list by the margin was 1.8 in one validation month and 2.2 in another, and its never-bought
# ranking asks 2.4 or more; on a shop of regular buyers no weight up to 3 clears the ranking, and the
# weight that would costs a quarter of the lists' all-items NDCG@10 (BENCHMARKS.md, "The discovery
# weight on two validation months", "Beating Popular's never-bought ranking too"). It depends on the
# shop and the month, so each version chooses its own.
NEW_ITEM_WEIGHTS = (1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 2.4, 2.6, 2.8, 3.0)
POPULAR_MARGIN = 1.1


def popular_bars(popular_served_new_ndcg: float, popular_new_ndcg: float) -> dict[str, float]:
    """The never-bought NDCG@10 a weight's lists should reach, the stricter first: ``POPULAR_MARGIN``
    times the better of Popular's served list and its never-bought ranking, then times its served
    list alone."""
    return {
        "popular_both": POPULAR_MARGIN * max(popular_served_new_ndcg, popular_new_ndcg),
        "popular_served_list": POPULAR_MARGIN * popular_served_new_ndcg,
    }


def bar_reached(new_ndcg: float, bars: dict[str, float]) -> str | None:
    """The name of the first of ``bars`` (``popular_bars``, the stricter first) that lists finding
    ``new_ndcg`` of the never-bought purchases reach; None when they reach neither."""
    return next((name for name, bar in bars.items() if new_ndcg >= bar), None)


def choose_new_item_weight(new_ndcg_by_weight: dict[float, float], bars: dict[str, float]) -> float:
    """The lowest weight whose served lists' never-bought NDCG@10 reaches the first of ``bars``
    (``popular_bars``) that some weight reaches; the highest weight measured when none does.

    The lowest, because every step up gives repeat purchases' places to never-bought products and
    costs the lists some of what customers buy again; the next bar when the stricter one is out of
    reach, rather than the highest weight's cost for lists that would still fall short of it; the
    highest when no bar is reached, as the closest the lists come to Popular.
    """
    if not new_ndcg_by_weight:
        raise ValueError("no served lists were measured to choose a new-item weight from")
    for bar in bars.values():
        for weight in sorted(new_ndcg_by_weight):
            if new_ndcg_by_weight[weight] >= bar:
                return weight
    return max(new_ndcg_by_weight)


# The minimum of never-bought products applies to a list's first places: the most the shop shows on
# a page, so every face (shop, portal, API) shows them without scrolling past the repeats.
DISCOVERY_PLACES = 8


def served_order(row: np.ndarray, is_new: np.ndarray, *, top_n: int, min_new: int) -> np.ndarray:
    """Positions of the entries each row serves, in the order served, at most ``top_n`` a row.

    The row's first ``DISCOVERY_PLACES`` places hold at least ``min_new`` new products
    (``keep_new_items``); the places after them follow the ranker's order with what is left.
    """
    row = np.asarray(row)
    first = keep_new_items(row, is_new, top_n=min(top_n, DISCOVERY_PLACES), min_new=min_new)
    order = np.lexsort((np.arange(len(row)), ~first, row))
    return order[position_in_row(row[order]) < top_n]


def position_in_row(row: np.ndarray) -> np.ndarray:
    """Each entry's 0-based place within its row, for entries grouped by row (each row's together)."""
    row = np.asarray(row)
    if not len(row):
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(row[1:] != row[:-1]) + 1]
    return np.arange(len(row)) - np.repeat(starts, np.diff(np.r_[starts, len(row)]))


def keep_new_items(row: np.ndarray, is_new: np.ndarray, *, top_n: int, min_new: int) -> np.ndarray:
    """Which entries make each row's top ``top_n`` when it must hold at least ``min_new`` new ones.

    ``row`` groups the entries (each row's entries together, best first) and ``is_new`` marks the
    products the customer never bought. A row whose natural top ``top_n`` holds fewer new products
    than ``min_new`` gives its lowest-ranked bought products' places to its best new products, in
    the ranker's order among new products; a row with fewer new products than that keeps all it
    has. The kept entries stay in their order, so ranks still follow the ranker's order.
    """
    row = np.asarray(row)
    is_new = np.asarray(is_new, dtype=bool)
    n = len(row)
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    if min_new < 0:
        raise ValueError(f"min_new must be 0 or more, got {min_new}")
    if n == 0:
        return np.zeros(0, dtype=bool)
    starts = np.r_[0, np.flatnonzero(row[1:] != row[:-1]) + 1]
    lengths = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(len(starts)), lengths)
    position = np.arange(n) - starts[group]
    new_rank = _rank_within(is_new, group, starts)
    old_rank = _rank_within(~is_new, group, starts)
    new_total = np.add.reduceat(is_new.astype(np.int64), starts)
    old_total = lengths - new_total
    natural_new = np.add.reduceat((is_new & (position < top_n)).astype(np.int64), starts)
    new_kept = np.maximum(natural_new, np.minimum(min(min_new, top_n), new_total))
    old_kept = np.minimum(old_total, top_n - new_kept)
    new_kept = np.minimum(new_total, top_n - old_kept)
    return np.where(is_new, new_rank <= new_kept[group], old_rank <= old_kept[group])


def _rank_within(flag: np.ndarray, group: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """1-based count of flagged entries up to and including each entry, within its group."""
    running = np.cumsum(flag)
    before_group = running[starts] - flag[starts]
    return running - before_group[group]

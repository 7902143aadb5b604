"""Recommendations that react to what a shopper just did, without running the network in a request.

The stored list of a model version (the MLP's top N for the customer, or the popular list for a visitor
it does not know) is blended at read time with the "bought together" neighbours of the shopper's recent
signals: products in the basket, just added, bought or viewed.

    blended = (1 - weight) * stored + weight * neighbours

``stored`` is the stored score over the list's best (a list's best is 1), so the blend does not depend on
how a model spreads its scores (``stored_by="rank"`` takes 1 / rank instead: measured, not chosen). For a
customer, a never-bought product's stored score counts ``new_item_weight`` times, as when the list was
ordered, and the blended list keeps the minimum of never-bought products in its first places
(``recommender.ml.discovery``): what the shopper just did moves products, it does not switch discovery
off.
``neighbours`` sums, over the signals, the signal's strength (its kind's weight, times ``SIGNAL_FADE``
for every later signal) times its co-purchase similarity to the product. It is not scaled to the
request's best: the similarity is a cosine, already 0..1 for any retailer, and how high it is says how
surely the basket points at the product. Scaled to the best, the closest neighbour of a weakly related
basket would count as much as a product bought with it in every order, and push the customer's own list
down. The fade makes the last product added lead: what a shopper adds next goes with what they just added
more than with what they added ten products ago. Products in the basket are never recommended. With no
signal the stored list comes back unchanged.

``weight`` and the fade were chosen on a validation period before the protocol's test period
(``bench/basket_completion.py``): scaling the neighbours to the best, summing against keeping the best
signal's share, a boost for products in both sources, more of the stored list and other similarities
(conditional probability, shrunk cosine) were measured there too and gained less. The kinds' weights
relative to the basket are a judgment, since the order data of a benchmark has baskets and purchases but
no views.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.ml.discovery import new_item_order, served_order

# What each kind of signal says about what the shopper wants next, relative to a basket item.
SIGNAL_WEIGHTS = {"basket": 1.0, "add_to_cart": 1.0, "purchase": 0.8, "view": 0.5}
# Each later signal makes an earlier one count this much: the latest interest leads. Chosen on the
# validation split with the weight.
SIGNAL_FADE = 0.5
# What the stored list brings to the blend: "score" is the network's score over the list's best; "rank"
# (1 / rank) would follow the order the list was served in, which also weighs up never-bought products
# (RECOMMENDER_NEW_ITEM_WEIGHT). Chosen on the validation split with the weight and the fade: the score
# completes more baskets (Recall@10 .1403 against .1385 at its best weight).
STORED_BY = "score"
# At most this many recent signals are read per request (the basket counts first).
MAX_SIGNALS = 10
# The share of the blend that goes to the neighbours of recent signals; chosen on the validation split.
DEFAULT_WEIGHT = 0.7


@dataclass(frozen=True)
class Signal:
    """Something the shopper did with a product, newest first in a list of signals."""

    product_id: int
    kind: str  # a key of SIGNAL_WEIGHTS
    product_name: str = ""


@dataclass(frozen=True)
class Blended:
    product_id: int
    score: float
    stored_rank: int | None  # position in the stored list (1..), None when only the signals brought it
    because_of: Signal | None  # the signal behind the product's place, when the signals decided it


def signal_strengths(
    signals: Sequence[Signal], *, fade: float = SIGNAL_FADE
) -> dict[int, tuple[float, Signal]]:
    """Each signalled product's strength (kind weight x fade by position), keeping its strongest signal.

    ``signals`` are newest first; a product signalled twice keeps the larger of its strengths."""
    strengths: dict[int, tuple[float, Signal]] = {}
    for position, signal in enumerate(signals[:MAX_SIGNALS]):
        strength = SIGNAL_WEIGHTS.get(signal.kind, 0.0) * fade**position
        if strength > strengths.get(signal.product_id, (0.0, signal))[0]:
            strengths[signal.product_id] = (strength, signal)
    return strengths


def neighbour_scores(
    signals: Sequence[Signal],
    neighbours: Mapping[int, Iterable[tuple[int, float]]],
    *,
    fade: float = SIGNAL_FADE,
) -> dict[int, tuple[float, Signal]]:
    """Summed, strength-weighted similarity of each product to the signals, with the signal that gave
    the most of it."""
    totals: dict[int, float] = {}
    best: dict[int, tuple[float, Signal]] = {}
    for product_id, (strength, signal) in signal_strengths(signals, fade=fade).items():
        for neighbour_id, similarity in neighbours.get(product_id, ()):
            share = strength * similarity
            if share <= 0:
                continue
            totals[neighbour_id] = totals.get(neighbour_id, 0.0) + share
            if share > best.get(neighbour_id, (0.0, signal))[0]:
                best[neighbour_id] = (share, signal)
    return {product_id: (total, best[product_id][1]) for product_id, total in totals.items()}


def blend(
    *,
    stored: Sequence[tuple[int, float]],
    signals: Sequence[Signal],
    neighbours: Mapping[int, Iterable[tuple[int, float]]],
    exclude: Iterable[int] = (),
    limit: int,
    weight: float = DEFAULT_WEIGHT,
    fade: float = SIGNAL_FADE,
    stored_by: str = STORED_BY,
    bought: Collection[int] | None = None,
    new_item_weight: float = 1.0,
    min_new_items: int = 0,
) -> list[Blended]:
    """The top ``limit`` products of the stored list ((product id, score), best first) re-ranked by
    the neighbours of the signals (newest first); products in ``exclude`` (the basket) left out.
    ``stored_by`` is what the stored list brings to the blend: "rank" (1 / its rank) or "score" (its
    score over the list's best).

    ``bought`` (the products the customer ever bought; None for a visitor) keeps the served lists'
    discovery rules (``recommender.ml.discovery``) through the blend, as the list was stored with them:
    the stored score of a product not in it counts ``new_item_weight`` times, and the first
    ``DISCOVERY_PLACES`` hold at least ``min_new_items`` such products where the blend has them."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be between 0 and 1, got {weight}")
    if stored_by not in ("rank", "score"):
        raise ValueError(f'stored_by must be "rank" or "score", got {stored_by!r}')
    if not 0.0 < fade <= 1.0:
        raise ValueError(f"fade must be above 0 and at most 1, got {fade}")
    excluded = set(exclude)
    if not signals:
        return [
            Blended(product_id, score, rank, None)
            for rank, (product_id, score) in enumerate(stored, start=1)
            if product_id not in excluded
        ][:limit]
    if bought is not None and new_item_weight != 1.0:
        # the value the stored list was ordered by (``discovery.new_item_order``)
        ids = [product_id for product_id, _ in stored]
        is_new = np.array([product_id not in bought for product_id in ids], dtype=bool)
        values = new_item_order(np.array([score for _, score in stored]), is_new, new_item_weight)
        stored = list(zip(ids, values.tolist(), strict=True))
    top_stored = max((score for _, score in stored), default=0.0)
    stored_part = {
        product_id: (
            rank,
            1.0 / rank if stored_by == "rank" else (score / top_stored) if top_stored > 0 else 0.0,
        )
        for rank, (product_id, score) in enumerate(stored, start=1)
    }
    from_signals = neighbour_scores(signals, neighbours, fade=fade)
    candidates = (stored_part.keys() | from_signals.keys()) - excluded
    blended: list[Blended] = []
    for product_id in candidates:
        rank, stored_score = stored_part.get(product_id, (None, 0.0))
        signal_score, signal = from_signals.get(product_id, (0.0, None))
        stored_share, signal_share = (1.0 - weight) * stored_score, weight * signal_score
        blended.append(
            Blended(
                product_id,
                stored_share + signal_share,
                rank,
                signal if signal is not None and signal_share > stored_share else None,
            )
        )
    # Ties keep the stored order, then the product id, so a page does not flicker between requests.
    blended.sort(key=lambda row: (-row.score, row.stored_rank or len(stored) + 1, row.product_id))
    if bought is None or min_new_items <= 0 or not blended:
        return blended[:limit]
    is_new = np.array([row.product_id not in bought for row in blended])
    kept = served_order(np.zeros(len(blended), dtype=np.int64), is_new, top_n=limit, min_new=min_new_items)
    return [blended[position] for position in kept]


REASONS = {
    "basket": "Goes with {name} in your basket",
    "add_to_cart": "Goes with {name} in your basket",
    "purchase": "Goes with {name} you just bought",
    "view": "Because you viewed {name}",
}


def signal_reason(signal: Signal, *, name: str | None = None) -> str:
    """The shopper's one-line reason for a product the signals brought up, naming the product (``name``,
    else the signal's own)."""
    return REASONS.get(signal.kind, "Because you viewed {name}").format(
        name=name or signal.product_name or "it"
    )

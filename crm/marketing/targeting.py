"""Promotion targeting on plain arrays: expected value, exclusions, audience cut, control hold-out."""

import numpy as np


def expected_values(probabilities: np.ndarray, margins: np.ndarray) -> np.ndarray:
    """Sum over promoted products of P(customer buys product) x margin per unit, per customer."""
    probabilities = np.asarray(probabilities, dtype="float64")
    margins = np.asarray(margins, dtype="float64")
    if probabilities.ndim != 2 or probabilities.shape[1] != len(margins):
        raise ValueError(
            f"Probabilities must be customers x products ({probabilities.shape}) with one margin per product "
            f"({len(margins)})."
        )
    return probabilities @ margins


def any_purchase_probability(probabilities: np.ndarray) -> np.ndarray:
    """P(buys at least one promoted product), treating the products as independent."""
    probabilities = np.clip(np.asarray(probabilities, dtype="float64"), 0.0, 1.0)
    return 1.0 - np.prod(1.0 - probabilities, axis=1)


def select_audience(
    customer_ids: np.ndarray,
    values: np.ndarray,
    *,
    eligible: np.ndarray,
    audience_size: int,
    scores: np.ndarray | None = None,
) -> np.ndarray:
    """Positions of the ``audience_size`` eligible customers with the highest value, best first.

    Equal values are ordered by ``scores`` (the chance of a purchase: a 100% discount leaves no margin,
    so every value is 0 and the likeliest buyers still come first), then by customer id, so the same
    inputs always give the same audience.
    """
    customer_ids = np.asarray(customer_ids)
    values = np.asarray(values, dtype="float64")
    scores = np.zeros(len(values)) if scores is None else np.asarray(scores, dtype="float64")
    positions = np.flatnonzero(np.asarray(eligible, dtype=bool))
    order = np.lexsort((customer_ids[positions], -scores[positions], -values[positions]))
    return positions[order][: max(0, int(audience_size))]


def control_mask(size: int, *, control_share: float, seed: int, promotion_id: int) -> np.ndarray:
    """Which of ``size`` ranked customers are held out: ``round(size x share)`` of them, drawn at
    random with a generator seeded by (seed, promotion id) so a recomputation gives the same split."""
    if not 0.0 <= control_share <= 0.5:
        raise ValueError(f"Control share must lie between 0 and 0.5, not {control_share}.")
    generator = np.random.default_rng([int(seed), int(promotion_id)])
    held_out = generator.permutation(size)[: int(round(size * control_share))]
    mask = np.zeros(size, dtype=bool)
    mask[held_out] = True
    return mask


def category_purchase_rates(bought_in_category: np.ndarray, purchase_days: np.ndarray) -> np.ndarray:
    """Fallback score without a served recommender: the share of a customer's purchase days on which
    they bought from a category, counting one purchase day more, without it (0 for customers who never
    bought from it).

    The day more keeps a short history from reading as certainty: one purchase day with a mug is 1 in
    2, five of five are 5 in 6, so the customer who has shown it more often comes first.
    """
    bought_in_category = np.asarray(bought_in_category, dtype="float64")
    purchase_days = np.asarray(purchase_days, dtype="float64")
    return np.divide(
        bought_in_category, purchase_days + 1, out=np.zeros_like(bought_in_category), where=purchase_days > 0
    )

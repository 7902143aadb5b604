"""From daily forecasts and stock to reorder points, stock-out dates and order quantities."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

# What INVENTORY_SERVICE_LEVEL means: the share of demand met from stock, or the chance of a cycle
# without a stock-out.
SERVICE_MEASURES = ("fill_rate", "cycle")


@dataclasses.dataclass
class ReplenishmentPlan:
    lead_time_demand: np.ndarray
    safety_stock: np.ndarray
    order_up_to: np.ndarray
    stockout_day: np.ndarray  # days from the as-of date until stock runs out; -1 when not within reach
    order_quantity: np.ndarray

    @property
    def reorder_point(self) -> np.ndarray:
        """The order-up-to level. Reviewed every review period, a product that orders nothing now waits
        for the next review's order, which arrives a lead time after it: what it holds must last the lead
        time plus the review period, the span the order-up-to level covers, so every review below it
        orders."""
        return self.order_up_to


def demand_over(daily_mean: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Forecast units over the first ``days[i]`` days for each product; past the horizon the horizon's
    mean daily rate continues."""
    n, horizon = daily_mean.shape
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(daily_mean, axis=1)], axis=1)
    days = np.asarray(days, dtype=np.int64)
    within = np.minimum(days, horizon)
    covered = cumulative[np.arange(n), within]
    rate = cumulative[:, -1] / max(horizon, 1)
    return covered + np.maximum(days - horizon, 0) * rate


def stockout_days(daily_mean: np.ndarray, on_hand: np.ndarray, max_days: int = 365) -> np.ndarray:
    """Days from the as-of date until forecast demand exceeds the units on hand (0: already out),
    -1 when it does not happen within ``max_days``."""
    n, horizon = daily_mean.shape
    rate = daily_mean.sum(axis=1) / max(horizon, 1)
    extended = np.concatenate(
        [daily_mean, np.repeat(rate[:, None], max(0, max_days - horizon), axis=1)], axis=1
    )
    cumulative = np.cumsum(extended[:, :max_days], axis=1)
    on_hand = np.asarray(on_hand, dtype=float)
    exceeded = cumulative > on_hand[:, None]
    first = np.where(exceeded.any(axis=1), exceeded.argmax(axis=1), -1)
    return np.where(on_hand <= 0, 0, first)


def expected_shortage(level: np.ndarray, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """E[(D - level)+]: the units demand exceeds ``level`` by on average, where D is negative binomial
    with this mean and variance mean x dispersion (Poisson at a dispersion of 1), the forecast's own
    distribution. It uses d P(d) = mean P'(d - 1), with P' the same distribution with one more success
    (r + 1) for the negative binomial and P itself for the Poisson, so
    E[(D - s)+] = mean P'(D' >= s) - s P(D > s)."""
    level = np.asarray(level, dtype=float)
    mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
    dispersion = np.maximum(np.asarray(dispersion, dtype=float), 1.0)
    poisson = dispersion <= 1.0 + 1e-9
    p = 1.0 / np.where(poisson, 2.0, dispersion)
    r = np.maximum(mean * p / (1 - p), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        above = np.where(poisson, stats.poisson.sf(level - 1, mean), stats.nbinom.sf(level - 1, r + 1, p))
        beyond = np.where(poisson, stats.poisson.sf(level, mean), stats.nbinom.sf(level, r, p))
    shortage = mean * above - level * beyond
    return np.where(mean > 0, np.maximum(shortage, 0.0), 0.0)


def fill_rate_order_up_to(
    *,
    cover_mean: np.ndarray,
    lead_mean: np.ndarray,
    dispersion: np.ndarray,
    fill_rate: float,
) -> np.ndarray:
    """The smallest whole order-up-to level S at which a review cycle's expected units short,
    E[(D(lead + review) - S)+] - E[(D(lead) - S)+], are at most (1 - fill_rate) x the demand of one
    review period: the fill rate (type 2, beta service) of a periodic-review, order-up-to policy. Never
    below zero; zero where nothing is forecast."""
    cover_mean = np.maximum(np.asarray(cover_mean, dtype=float), 0.0)
    lead_mean = np.minimum(np.maximum(np.asarray(lead_mean, dtype=float), 0.0), cover_mean)
    dispersion = np.broadcast_to(np.maximum(np.asarray(dispersion, dtype=float), 1.0), cover_mean.shape)
    allowed = (1.0 - fill_rate) * (cover_mean - lead_mean)

    def short(level: np.ndarray) -> np.ndarray:
        return expected_shortage(level, cover_mean, dispersion) - expected_shortage(
            level, lead_mean, dispersion
        )

    low = np.zeros_like(cover_mean)  # fails unless short(0) already meets the target
    done = short(low) <= allowed + 1e-9
    high = np.ceil(cover_mean + 6 * np.sqrt(cover_mean * dispersion)) + 1
    # The shortage falls as S rises; widen the few bounds a long tail leaves short of the target.
    while not (done | (short(high) <= allowed + 1e-9)).all():
        high = np.where(done | (short(high) <= allowed + 1e-9), high, 2 * high)
    while True:
        open_ = ~done & (high - low > 1)
        if not open_.any():
            break
        middle = np.floor((low + high) / 2)
        meets = short(middle) <= allowed + 1e-9
        high = np.where(open_ & meets, middle, high)
        low = np.where(open_ & ~meets, middle, low)
    return np.where(done, 0.0, high)


def replenishment_plan(
    *,
    daily_mean: np.ndarray,
    dispersion: np.ndarray,
    on_hand: np.ndarray,
    lead_time_days: np.ndarray,
    review_days: int,
    service_level: float,
    min_order_qty: np.ndarray,
    pack_size: np.ndarray,
    on_order: np.ndarray | None = None,
    service_measure: str = "cycle",
) -> ReplenishmentPlan:
    """A periodic-review, order-up-to policy.

    Demand over a span is the forecast's: mean from the daily forecast, variance = mean x the product's
    dispersion (a negative binomial, as in the forecast's intervals). ``service_measure``:

    - ``fill_rate``: ``service_level`` is the share of demand met from stock. The order-up-to level is
      the smallest that keeps a review cycle's expected units short at (1 - service level) x one review
      period's demand (``fill_rate_order_up_to``); safety stock = that level - demand over lead time plus
      one review period. It is negative where a product sells so steadily that one review period's
      shortfall allowance exceeds the spread of its demand.
    - ``cycle``: ``service_level`` is the chance of no stock-out in a cycle; safety stock = z(service
      level) standard deviations of the demand over lead time plus one review period.

    Reorder point = the order-up-to level: forecast demand over the lead time plus one review period +
    safety stock (never below zero). When the units on hand plus ``on_order`` (ordered, not yet
    received) are below it, order up to it, rounded up to whole packs and at least the minimum order.
    The stock-out date counts the units on hand only: what is on order has not arrived.
    """
    if service_measure not in SERVICE_MEASURES:
        raise ValueError(f"service_measure must be one of {', '.join(SERVICE_MEASURES)}")
    if not 0 < service_level < 1:
        raise ValueError(f"service_level must be between 0 and 1 (not included), not {service_level}")
    lead = np.maximum(np.asarray(lead_time_days, dtype=np.int64), 0)
    lead_demand = demand_over(daily_mean, lead)
    cover_demand = demand_over(daily_mean, lead + review_days)
    dispersion = np.maximum(np.asarray(dispersion, dtype=float), 1.0)
    if service_measure == "fill_rate":
        order_up_to = fill_rate_order_up_to(
            cover_mean=cover_demand, lead_mean=lead_demand, dispersion=dispersion, fill_rate=service_level
        )
        safety = np.round(order_up_to - cover_demand)
    else:
        z = float(stats.norm.ppf(service_level))
        spread = np.sqrt(np.maximum(cover_demand, 0) * dispersion)
        safety = np.ceil(z * spread * np.where(cover_demand > 0, 1.0, 0.0))
        order_up_to = np.maximum(np.ceil(cover_demand + safety), 0)
    on_hand = np.asarray(on_hand, dtype=float)
    position = on_hand + (0.0 if on_order is None else np.asarray(on_order, dtype=float))
    needed = np.maximum(order_up_to - position, 0)
    pack = np.maximum(np.asarray(pack_size, dtype=float), 1)
    quantity = np.ceil(needed / pack) * pack
    quantity = np.where(quantity > 0, np.maximum(quantity, np.asarray(min_order_qty, dtype=float)), 0)
    # A minimum order that is not a whole number of packs is rounded up to one.
    quantity = np.ceil(quantity / pack) * pack
    return ReplenishmentPlan(
        lead_time_demand=lead_demand,
        safety_stock=safety,
        order_up_to=order_up_to,
        stockout_day=stockout_days(daily_mean, on_hand),
        order_quantity=quantity.astype(np.int64),
    )

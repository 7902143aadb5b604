"""From daily forecasts and stock to reorder points, stock-out dates and order quantities."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats


@dataclasses.dataclass
class ReplenishmentPlan:
    lead_time_demand: np.ndarray
    safety_stock: np.ndarray
    reorder_point: np.ndarray
    order_up_to: np.ndarray
    stockout_day: np.ndarray  # days from the as-of date until stock runs out; -1 when not within reach
    order_quantity: np.ndarray


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
) -> ReplenishmentPlan:
    """A periodic-review, order-up-to policy.

    Reorder point = forecast demand over the lead time + safety stock, where the safety stock is
    z(service level) standard deviations of lead-time demand (variance = mean x the product's
    dispersion, as in the forecast's intervals). When the units on hand are at or below the reorder
    point, order up to the demand over lead time plus one review period plus the safety stock, rounded
    up to whole packs and at least the minimum order. Units already ``on_order`` count towards the
    reorder point and the order (not towards the stock-out date).
    """
    z = float(stats.norm.ppf(service_level))
    lead = np.maximum(np.asarray(lead_time_days, dtype=np.int64), 0)
    lead_demand = demand_over(daily_mean, lead)
    cover_demand = demand_over(daily_mean, lead + review_days)
    spread = np.sqrt(np.maximum(cover_demand, 0) * np.maximum(dispersion, 1.0))
    safety = np.ceil(z * spread * np.where(cover_demand > 0, 1.0, 0.0))
    reorder_point = np.ceil(lead_demand + safety)
    order_up_to = np.ceil(cover_demand + safety)
    on_hand = np.asarray(on_hand, dtype=float)
    position = on_hand + (0.0 if on_order is None else np.asarray(on_order, dtype=float))
    needed = np.where(position <= reorder_point, np.maximum(order_up_to - position, 0), 0)
    pack = np.maximum(np.asarray(pack_size, dtype=float), 1)
    quantity = np.ceil(needed / pack) * pack
    quantity = np.where(quantity > 0, np.maximum(quantity, np.asarray(min_order_qty, dtype=float)), 0)
    # A minimum order that is not a whole number of packs is rounded up to one.
    quantity = np.ceil(quantity / pack) * pack
    return ReplenishmentPlan(
        lead_time_demand=lead_demand,
        safety_stock=safety,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        stockout_day=stockout_days(daily_mean, on_hand),
        order_quantity=quantity.astype(np.int64),
    )

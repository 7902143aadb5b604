"""Scoring weekly forecasts the way the M5 competition did, and the simple rules they must beat."""

from __future__ import annotations

import numpy as np

BASELINES = ("last_week", "mean_4_weeks", "mean_13_weeks")


def first_week_index(first_sale_day: np.ndarray, *, days: int, weeks: int) -> np.ndarray:
    """The week (on the axis of ``demand.weekly``) of each product's first sale; 0 if before the window."""
    return np.clip((first_sale_day - (days - weeks * 7)) // 7, 0, weeks - 1)


def since_first_sale(weekly_units: np.ndarray, first_week: np.ndarray) -> np.ma.MaskedArray:
    """The weekly series with the weeks before each product's first sale masked out."""
    weeks = np.arange(weekly_units.shape[1])
    return np.ma.masked_array(weekly_units, mask=weeks[None, :] < first_week[:, None])


def rmsse_scale(weekly_units: np.ndarray, first_week: np.ndarray) -> np.ndarray:
    """Mean squared one-week change of each series from its first sale (0 where there is none)."""
    changes = np.diff(weekly_units, axis=1) ** 2
    weeks = np.arange(1, weekly_units.shape[1])
    valid = weeks[None, :] > first_week[:, None]
    counts = valid.sum(axis=1)
    totals = np.where(valid, changes, 0.0).sum(axis=1)
    return np.divide(totals, counts, out=np.zeros(len(counts)), where=counts > 0)


def rmsse(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per product; NaN where the scale is 0 (a series with a single week of history)."""
    mse = ((actual - forecast) ** 2).mean(axis=1)
    return np.divide(np.sqrt(mse), np.sqrt(scale), out=np.full(len(mse), np.nan), where=scale > 0)


def wrmsse(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray, weight: np.ndarray) -> float:
    """RMSSE per product weighted by ``weight`` (revenue); products without a scale or weight are left out."""
    per_product = rmsse(actual, forecast, scale)
    usable = np.isfinite(per_product) & (weight > 0)
    if not usable.any():
        return float("nan")
    return float((per_product[usable] * weight[usable]).sum() / weight[usable].sum())


def baseline_forecasts(weekly_units: np.ndarray, horizon_weeks: int) -> dict[str, np.ndarray]:
    """The rules of thumb: last week repeated, the mean of the last 4 weeks, of the last 13 weeks."""
    return {
        "last_week": np.repeat(weekly_units[:, -1:], horizon_weeks, axis=1),
        "mean_4_weeks": np.repeat(weekly_units[:, -4:].mean(axis=1, keepdims=True), horizon_weeks, axis=1),
        "mean_13_weeks": np.repeat(weekly_units[:, -13:].mean(axis=1, keepdims=True), horizon_weeks, axis=1),
    }


def interval_coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of product-periods whose actual value lies within [lower, upper]."""
    inside = (actual >= lower - 1e-9) & (actual <= upper + 1e-9)
    return float(inside.mean()) if inside.size else float("nan")

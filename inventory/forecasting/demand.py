"""Sales lines -> a products x days matrix of units sold, and the weekly buckets the forecasts use.

Weeks are counted back from the as-of date: week -1 is the seven days before it, so every bucket is
whole and the last one ends the day before the forecast starts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

# A product is forecast when it sold in this many days before the as-of date.
ACTIVE_DAYS = 365
# Days of history kept for fitting: a year and a week, so a weekly series has 52 whole weeks.
HISTORY_DAYS = 371


@dataclasses.dataclass
class DemandHistory:
    """Daily units (and revenue) per product for the ``days`` days before ``as_of``."""

    as_of: dt.date
    product_ids: np.ndarray  # (n,)
    units: np.ndarray  # (n, days) float, oldest day first
    revenue: np.ndarray  # (n, days)
    first_sale_day: np.ndarray  # (n,) index into the day axis (may be negative: sold before the window)

    @property
    def days(self) -> int:
        return self.units.shape[1]

    @property
    def start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=self.days)

    def day_dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.days, freq="D")


def weekly(matrix: np.ndarray) -> np.ndarray:
    """Sum the last whole weeks of a (n, days) matrix into (n, days // 7), aligned on its last day."""
    n, days = matrix.shape
    weeks = days // 7
    return matrix[:, days - weeks * 7 :].reshape(n, weeks, 7).sum(axis=2)


def demand_history(
    sales: pd.DataFrame,
    *,
    as_of: dt.date,
    days: int = HISTORY_DAYS,
    active_days: int = ACTIVE_DAYS,
    first_sales: pd.Series | None = None,
) -> DemandHistory:
    """Daily units per product from sales lines dated before ``as_of``.

    ``sales`` has ``product_id``, ``day`` and ``units`` (sold units, returns already left out), and
    optionally ``revenue``. Products with no sale in the
    ``active_days`` before ``as_of`` are left out: nothing to forecast from. ``first_sales`` (product id
    -> date) gives first sales older than ``sales`` reaches back.
    """
    as_of_ts = pd.Timestamp(as_of)
    day = pd.to_datetime(sales["day"]).dt.tz_localize(None).dt.normalize()
    before = day < as_of_ts
    sales = sales.loc[before]
    day = day[before]
    offset = (day - as_of_ts).dt.days.to_numpy() + days  # index on the day axis; < 0 before the window
    active = sales.loc[offset >= days - active_days, "product_id"].unique()
    product_ids = np.sort(np.asarray(active, dtype=np.int64))
    row_of = pd.Index(product_ids)
    rows = row_of.get_indexer(sales["product_id"].to_numpy())
    known = rows >= 0
    first = np.full(len(product_ids), days, dtype=np.int64)
    np.minimum.at(first, rows[known], offset[known])
    if first_sales is not None and len(first_sales):
        first_rows = row_of.get_indexer(first_sales.index.to_numpy())
        first_offsets = (pd.to_datetime(first_sales.to_numpy()) - as_of_ts).days.to_numpy() + days
        np.minimum.at(first, first_rows[first_rows >= 0], first_offsets[first_rows >= 0])
    inside = known & (offset >= 0)
    units = np.zeros((len(product_ids), days))
    revenue = np.zeros((len(product_ids), days))
    np.add.at(units, (rows[inside], offset[inside]), sales["units"].to_numpy(dtype=float)[inside])
    if "revenue" in sales:
        np.add.at(revenue, (rows[inside], offset[inside]), sales["revenue"].to_numpy(dtype=float)[inside])
    return DemandHistory(
        as_of=as_of, product_ids=product_ids, units=units, revenue=revenue, first_sale_day=first
    )

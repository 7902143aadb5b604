"""Plausible stock and buying rules for the demo shop, the same on every run."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db.models import Max, Sum

from crm.models import Order, Product
from inventory.selectors import sale_lines
from inventory.services.stock import StockImportReport, stock_import_frame

DEMO_STOCK_SEED = 2011
LEAD_TIMES_DAYS = np.array([7, 14, 21, 28, 42])
LEAD_TIME_WEIGHTS = np.array([0.25, 0.35, 0.2, 0.15, 0.05])
PACK_SIZES = np.array([1, 6, 12, 24, 48, 96])
LOW_STOCK_SHARE = 0.1


def demo_stock_seed(*, seed: int = DEMO_STOCK_SEED) -> StockImportReport:
    """Give every product stock and buying rules drawn from its own recent sales: a pack of about a
    quarter of a week's sales, a lead time of one to six weeks, a minimum order of one to four packs, and
    its lead time's sales plus about four weeks on hand (one product in ten running low, below its
    lead time's sales). Products are taken in id order with a seeded generator, so a rerun gives the same."""
    products = list(Product.objects.order_by("external_id").values_list("pk", "external_id"))
    if not products:
        return StockImportReport(source="demo")
    latest = Order.objects.aggregate(latest=Max("placed_at"))["latest"]
    recent = {}
    if latest is not None:
        since = latest - dt.timedelta(days=91)
        recent = dict(
            sale_lines()
            .filter(order__placed_at__gte=since)
            .values("product_id")
            .annotate(units=Sum("quantity"))
            .values_list("product_id", "units")
            .order_by()
        )
    weekly = np.array([recent.get(pk, 0) / 13 for pk, _ in products], dtype=float)
    frame = demo_stock_frame(
        external_ids=[external_id for _, external_id in products], weekly_units=weekly, seed=seed
    )
    return stock_import_frame(frame=frame.astype(str), source="demo stock")


def demo_stock_frame(
    *, external_ids: list[str], weekly_units: np.ndarray, seed: int = DEMO_STOCK_SEED
) -> pd.DataFrame:
    """The draws of ``demo_stock_seed`` for products (in this order) selling ``weekly_units`` a week."""
    rng = np.random.default_rng(seed)
    n = len(external_ids)
    weekly = np.asarray(weekly_units, dtype=float)
    lead_time = rng.choice(LEAD_TIMES_DAYS, size=n, p=LEAD_TIME_WEIGHTS)
    # Most products hold their lead time's sales and a few weeks more; some are running low.
    cover_weeks = lead_time / 7 + rng.gamma(2.0, 2.0, size=n)
    low = rng.random(n) < LOW_STOCK_SHARE
    cover_weeks[low] = rng.uniform(0, lead_time[low] / 7)
    on_hand = np.round(weekly * cover_weeks + rng.integers(0, 12, size=n) * (weekly == 0)).astype(int)
    pack_index = np.clip(np.searchsorted(PACK_SIZES, np.maximum(weekly / 4, 1)) - 1, 0, len(PACK_SIZES) - 1)
    pack = PACK_SIZES[pack_index]
    return pd.DataFrame(
        {
            "product_id": list(external_ids),
            "on_hand": on_hand,
            "lead_time_days": lead_time,
            "min_order_qty": pack * rng.integers(1, 5, size=n),
            "pack_size": pack,
        }
    )

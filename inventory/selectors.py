"""What pages, the API, exports and other apps read: the latest forecast run, a product's forecast, and
the replenishment plan computed from the run and today's stock."""

from __future__ import annotations

import datetime as dt
from typing import IO

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDate

from crm.csv_safety import csv_safe_writer
from crm.models import Order, OrderLine, Product
from inventory.forecasting import engine, replenishment
from inventory.models import ForecastRun, ProductForecast

FORECAST_CSV_COLUMNS = ("product_id", "date", "forecast", "lower", "upper")
# The documented columns first; units on order and the product's name, added later, last (a reader of
# the first seven keeps working).
REPLENISHMENT_CSV_COLUMNS = (
    "product_id",
    "on_hand",
    "lead_time_days",
    "reorder_point",
    "safety_stock",
    "stockout_date",
    "order_quantity",
    "on_order",
    "name",
)
# Where a product that does not run out within the forecast's horizon sorts on the reorder list: last.
NEVER_RUNS_OUT_DAYS = 10**6
FREQUENCIES = {"day": 1, "week": 7}


def sale_lines() -> QuerySet[OrderLine]:
    """Units sold: lines of catalogue products with a positive quantity in orders that were not
    cancelled or returned (returns and non-product lines such as postage are not demand)."""
    return OrderLine.objects.filter(product__isnull=False, quantity__gt=0, order__in=Order.objects.sales())


def product_daily_sales(*, product: Product, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """Units of the product sold per day from ``start`` up to (not including) ``end``."""
    rows = (
        sale_lines()
        .filter(product=product, order__placed_at__date__gte=start, order__placed_at__date__lt=end)
        .annotate(day=TruncDate("order__placed_at"))
        .values("day")
        .annotate(units=Sum("quantity"))
        .values_list("day", "units")
        .order_by()
    )
    return dict(rows)


def forecast_run_latest() -> ForecastRun | None:
    return ForecastRun.objects.latest_first().first()


def forecast_run_list(*, limit: int = 10) -> QuerySet[ForecastRun]:
    return ForecastRun.objects.latest_first().select_related("job")[:limit]


def product_forecast_for_product(
    *, product: Product, run: ForecastRun | None = None
) -> ProductForecast | None:
    run = run or forecast_run_latest()
    if run is None:
        return None
    return ProductForecast.objects.filter(run=run, product=product).select_related("run").first()


def forecast_rows(*, run: ForecastRun, freq: str = "day", product: Product | None = None) -> list[tuple]:
    """``(product_id, date, forecast, lower, upper)`` per product and day, or per 7-day bucket counted
    from the as-of date (``date`` = its first day) with the bucket's own interval."""
    bucket_days = FREQUENCIES[freq]
    forecasts = ProductForecast.objects.filter(run=run).order_by("product__external_id")
    if product is not None:
        forecasts = forecasts.filter(product=product)
    values = list(forecasts.values_list("product__external_id", "daily", "lower", "upper", "dispersion"))
    if not values:
        return []
    ids = [row[0] for row in values]
    daily = np.array([row[1] for row in values], dtype=float)
    if bucket_days == 1:
        mean, lower, upper = daily, np.array([row[2] for row in values]), np.array([row[3] for row in values])
    else:
        dispersion = np.array([row[4] for row in values], dtype=float)
        mean, lower, upper = engine.bucket_forecast(
            daily, dispersion, bucket_days=bucket_days, level=run.level
        )
    dates = [run.as_of + dt.timedelta(days=bucket_days * index) for index in range(mean.shape[1])]
    return [
        (external_id, dates[index], round(float(m[index]), 3), float(lo[index]), float(up[index]))
        for external_id, m, lo, up in zip(ids, mean, lower, upper, strict=True)
        for index in range(mean.shape[1])
    ]


def forecast_export_csv(*, run: ForecastRun, out: IO[str], freq: str = "day") -> int:
    writer = csv_safe_writer(out)
    writer.writerow(FORECAST_CSV_COLUMNS)
    rows = forecast_rows(run=run, freq=freq)
    for external_id, date, mean, lower, upper in rows:
        writer.writerow([external_id, date.isoformat(), f"{mean:.3f}", f"{lower:g}", f"{upper:g}"])
    return len(rows)


def replenishment_frame(
    *, run: ForecastRun | None = None, product_ids: list[int] | None = None
) -> pd.DataFrame:
    """One row per product of the run whose stock is tracked: on hand, on order, buying rules (with
    the settings' defaults), reorder point, safety stock, stock-out date (from the units on hand),
    suggested order (after the units on order) and weeks of cover. Empty when there is no run."""
    run = run or forecast_run_latest()
    columns = [
        "product_pk",
        "product_id",
        "name",
        "on_hand",
        "on_order",
        "lead_time_days",
        "min_order_qty",
        "pack_size",
        "weekly_demand",
        "reorder_point",
        "safety_stock",
        "stockout_date",
        "stockout_days",
        "order_quantity",
        "weeks_of_cover",
    ]
    if run is None:
        return pd.DataFrame(columns=columns)
    forecasts = ProductForecast.objects.filter(run=run, product__stock__isnull=False)
    if product_ids is not None:
        forecasts = forecasts.filter(product_id__in=product_ids)
    values = list(
        forecasts.order_by("product__external_id").values_list(
            "product_id",
            "product__external_id",
            "product__name",
            "product__stock",
            "product__stock_policy__lead_time_days",
            "product__stock_policy__min_order_qty",
            "product__stock_policy__pack_size",
            "product__stock_policy__on_order",
            "daily",
            "dispersion",
        )
    )
    if not values:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        [row[:8] for row in values],
        columns=[
            "product_pk",
            "product_id",
            "name",
            "on_hand",
            "lead_time_days",
            "min_order_qty",
            "pack_size",
            "on_order",
        ],
    )
    frame["lead_time_days"] = (
        frame["lead_time_days"].fillna(settings.INVENTORY_DEFAULT_LEAD_TIME_DAYS).astype(int)
    )
    frame["min_order_qty"] = frame["min_order_qty"].fillna(0).astype(int)
    frame["pack_size"] = frame["pack_size"].fillna(1).astype(int)
    frame["on_order"] = frame["on_order"].fillna(0).astype(int)
    daily = np.array([row[8] for row in values], dtype=float)
    plan = replenishment.replenishment_plan(
        daily_mean=daily,
        dispersion=np.array([row[9] for row in values], dtype=float),
        on_hand=frame["on_hand"].to_numpy(dtype=float),
        on_order=frame["on_order"].to_numpy(dtype=float),
        lead_time_days=frame["lead_time_days"].to_numpy(),
        review_days=settings.INVENTORY_REVIEW_DAYS,
        service_level=settings.INVENTORY_SERVICE_LEVEL,
        service_measure=settings.INVENTORY_SERVICE_MEASURE,
        min_order_qty=frame["min_order_qty"].to_numpy(),
        pack_size=frame["pack_size"].to_numpy(),
    )
    weekly_demand = daily.sum(axis=1) / max(daily.shape[1], 1) * 7
    frame["weekly_demand"] = weekly_demand.round(2)
    frame["reorder_point"] = plan.reorder_point.astype(int)
    frame["safety_stock"] = plan.safety_stock.astype(int)
    frame["stockout_days"] = plan.stockout_day
    frame["stockout_date"] = [
        run.as_of + dt.timedelta(days=int(day)) if day >= 0 else None for day in plan.stockout_day
    ]
    frame["order_quantity"] = plan.order_quantity
    frame["weeks_of_cover"] = np.divide(
        frame["on_hand"].to_numpy(dtype=float),
        weekly_demand,
        out=np.full(len(frame), np.inf),
        where=weekly_demand > 0,
    ).round(1)
    return frame[columns]


def replenishment_reorder_list(*, run: ForecastRun | None = None, to_order_only: bool = True) -> pd.DataFrame:
    """The reorder list as the buyer reads it: the products to order (every product with tracked stock
    when not ``to_order_only``), soonest stock-out first, those not running out within the forecast
    last, then by id. The page and its CSV read it, so the file holds the rows the page shows."""
    frame = replenishment_frame(run=run)
    if to_order_only and len(frame):
        frame = frame[frame["order_quantity"] > 0]
    soonest = frame["stockout_days"].where(frame["stockout_days"] >= 0, NEVER_RUNS_OUT_DAYS)
    return frame.assign(soonest=soonest).sort_values(["soonest", "product_id"]).drop(columns="soonest")


def replenishment_export_csv(
    *, out: IO[str], run: ForecastRun | None = None, to_order_only: bool = False
) -> int:
    """The reorder list (``replenishment_reorder_list``) as CSV, one product a row with its name, what
    a buyer forwards to a supplier."""
    frame = replenishment_reorder_list(run=run, to_order_only=to_order_only)
    writer = csv_safe_writer(out)
    writer.writerow(REPLENISHMENT_CSV_COLUMNS)
    for row in frame.itertuples(index=False):
        values = row._asdict()
        values["stockout_date"] = row.stockout_date.isoformat() if row.stockout_date else ""
        writer.writerow([values[column] for column in REPLENISHMENT_CSV_COLUMNS])
    return len(frame)


def replenishment_at_risk(*, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Products forecast to run out before an order placed today would arrive: soonest first, and on the
    same day the most units a week first. A product with no forecast demand loses no sale by being
    out, so it is not at risk (an empty shelf of it is the out-of-stock rule's business)."""
    frame = replenishment_frame() if frame is None else frame
    at_risk = frame[
        (frame["stockout_days"] >= 0)
        & (frame["stockout_days"] < frame["lead_time_days"])
        & (frame["weekly_demand"] > 0)
    ]
    return at_risk.sort_values(
        ["stockout_days", "weekly_demand", "product_id"], ascending=[True, False, True]
    )


def replenishment_overstock(*, frame: pd.DataFrame | None = None, weeks: int | None = None) -> pd.DataFrame:
    """Products with more than ``weeks`` (setting) of forecast demand on hand, most weeks first."""
    weeks = settings.INVENTORY_OVERSTOCK_WEEKS if weeks is None else weeks
    frame = replenishment_frame() if frame is None else frame
    over = frame[(frame["on_hand"] > 0) & (frame["weeks_of_cover"] > weeks)]
    return over.sort_values(["weeks_of_cover", "on_hand"], ascending=False)


def product_ids_at_risk_before_delivery() -> set[int]:
    """Primary keys of products forecast to run out before an order placed today could arrive: what
    recommendations and promotions leave out when ``INVENTORY_AVOID_STOCKOUTS`` is on (empty when off,
    or before the first forecast)."""
    if not settings.INVENTORY_AVOID_STOCKOUTS:
        return set()
    return set(replenishment_at_risk()["product_pk"].astype(int).tolist())

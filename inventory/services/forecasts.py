"""Forecast runs: sales lines from the database -> ``inventory.forecasting`` -> a stored ``ForecastRun``."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Max, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm.models import Order
from inventory.forecasting import demand, engine
from inventory.models import ForecastRun, ProductForecast
from inventory.selectors import sale_lines

logger = logging.getLogger(__name__)

# Forecast rows per INSERT: each carries three lists of horizon values.
WRITE_BATCH_SIZE = 1_000
FETCH_CHUNK_SIZE = 50_000
# Runs kept: the latest is served, a few before it stay to compare with.
RUNS_KEPT = 5


def forecast_default_as_of() -> dt.date:
    """The day after the latest order: forecasts start where the known history ends."""
    latest = Order.objects.aggregate(latest=Max("placed_at"))["latest"]
    if latest is None:
        return timezone.localdate()
    return timezone.localdate(latest) + dt.timedelta(days=1)


def sales_frame(*, as_of: dt.date, days: int = demand.HISTORY_DAYS) -> tuple[pd.DataFrame, pd.Series]:
    """Units and revenue per product and day for the ``days`` days before ``as_of``, summed
    in the database, and each product's first sale day (ever, before ``as_of``)."""
    start = as_of - dt.timedelta(days=days)
    amount = ExpressionWrapper(
        F("quantity") * F("unit_price") - F("discount"),
        output_field=DecimalField(max_digits=18, decimal_places=4),
    )
    lines = sale_lines().filter(order__placed_at__date__lt=as_of)
    rows = (
        lines.filter(order__placed_at__date__gte=start)
        .annotate(day=TruncDate("order__placed_at"))
        .values("product_id", "day")
        .annotate(units=Sum("quantity"), revenue=Sum(amount))
        .values_list("product_id", "day", "units", "revenue")
        .order_by()
    )
    frame = pd.DataFrame.from_records(
        list(rows.iterator(chunk_size=FETCH_CHUNK_SIZE)),
        columns=["product_id", "day", "units", "revenue"],
    )
    frame = frame.astype({"units": "float64", "revenue": "float64"})
    frame["day"] = pd.to_datetime(frame["day"])
    first = dict(
        lines.values("product_id")
        .annotate(first=Min("order__placed_at"))
        .values_list("product_id", "first")
        .order_by()
    )
    first_sales = pd.Series({pk: timezone.localdate(value) for pk, value in first.items()}, dtype="object")
    return frame, first_sales


def forecast_run_create(
    *,
    as_of: dt.date | None = None,
    horizon_days: int = 28,
    level: int = 80,
    progress: Callable[..., None] | None = None,
    job_id: int | None = None,
) -> ForecastRun:
    """Forecast every product sold in the year before ``as_of`` and store the run, in one transaction."""
    as_of = as_of or forecast_default_as_of()
    report = progress or (lambda fraction, message="": None)
    started = time.monotonic()
    report(0.02, "Reading sales")
    frame, first_sales = sales_frame(as_of=as_of)
    history = demand.demand_history(frame, as_of=as_of, first_sales=first_sales)
    report(0.1, f"Forecasting {len(history.product_ids):,} products")
    result = engine.forecast_demand(
        history,
        horizon_days=horizon_days,
        level=level,
        progress=lambda fraction, message="": report(0.1 + 0.75 * fraction, message),
    )
    report(0.88, "Writing forecasts")
    seconds = round(time.monotonic() - started, 2)
    with transaction.atomic():
        run = ForecastRun.objects.create(
            as_of=as_of,
            horizon_days=horizon_days,
            level=level,
            job_id=job_id,
            parameters={
                "candidates": list(engine.CANDIDATES),
                "combined_from": list(engine.COMBINED_FROM),
                "history_days": demand.HISTORY_DAYS,
                "active_days": demand.ACTIVE_DAYS,
                "bucket": "week",
            },
            backtest=result.backtest,
            model_counts=dict(Counter(result.model.tolist())),
            product_count=len(result.product_ids),
            seconds=seconds,
        )
        product_forecasts = (
            ProductForecast(
                run=run,
                product_id=int(product_id),
                model=model,
                demand_class=klass,
                dispersion=float(dispersion),
                total=float(mean.sum()),
                daily=_rounded(mean),
                lower=_rounded(lower),
                upper=_rounded(upper),
            )
            for product_id, model, klass, dispersion, mean, lower, upper in zip(
                result.product_ids.tolist(),
                result.model.tolist(),
                result.demand_class.tolist(),
                result.dispersion,
                result.daily_mean,
                result.daily_lower,
                result.daily_upper,
                strict=True,
            )
        )
        ProductForecast.objects.bulk_create(product_forecasts, batch_size=WRITE_BATCH_SIZE)
        stale = ForecastRun.objects.latest_first().values_list("pk", flat=True)[RUNS_KEPT:]
        ForecastRun.objects.filter(pk__in=list(stale)).delete()
    report(1.0, f"{run.product_count:,} products forecast")
    logger.info("Forecast as of %s: %d products in %.1f s", as_of, run.product_count, seconds)
    return run


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(value), 3) for value in values]

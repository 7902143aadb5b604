"""Segments: RFM groups and lifetime value for every customer, stored as a dated snapshot."""

import datetime as dt
import logging
import time
from collections.abc import Callable

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.bulk import bulk_insert_rows
from core.jobs import job_create
from core.models import Job
from crm.marketing import clv, rfm
from crm.models import CustomerSegment, Order, OrderLine, SegmentRun
from crm.models.orders import line_amount

logger = logging.getLogger(__name__)

SEGMENT_FIELDS = (
    "run_id",
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_group",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "p_alive",
    "expected_order_value",
    "predicted_clv_12m",
    "high_value",
    "churn_risk",
)
# Rows fetched per round trip when reading the daily spend of every customer.
FETCH_CHUNK_SIZE = 50_000


def purchase_day_frame(*, until: dt.date) -> pd.DataFrame:
    """Net spend per customer and day up to ``until`` (inclusive), summed in the database.

    Every line of an order that was not cancelled counts, catalogue products and other lines (postage,
    fees, manual discounts) alike: monetary value is what the customer paid and kept. Lines with a
    negative quantity (returns, which usually come as their own return orders) lower the spend of the
    day they were returned; guest orders are left out.
    """
    amount = line_amount()
    rows = (
        # Erased customers' orders stay for the books under one anonymous record, which is not a customer.
        OrderLine.objects.net_of_returns()
        .filter(order__customer__isnull=False, order__customer__anonymous=False)
        .filter(order__placed_at__date__lte=until)
        .annotate(day=TruncDate("order__placed_at"))
        .values("order__customer_id", "day")
        .annotate(amount=Sum(amount))
        .values_list("order__customer_id", "day", "amount")
        .order_by()
    )
    frame = pd.DataFrame.from_records(
        list(rows.iterator(chunk_size=FETCH_CHUNK_SIZE)), columns=["customer_id", "day", "amount"]
    )
    frame["day"] = pd.to_datetime(frame["day"]).astype("datetime64[ns]")
    return frame.astype({"customer_id": "int64", "amount": "float64"})


def segment_table(
    purchase_days: pd.DataFrame, *, as_of: dt.date, margin: float = 1.0
) -> tuple[pd.DataFrame, dict]:
    """RFM and CLV per customer, and the fitted parameters. Without enough repeat buyers to fit the
    purchase model, CLV columns keep neutral values and the parameters say why."""
    table = rfm.rfm_table(purchase_days, as_of=as_of)
    summary = clv.clv_summary(purchase_days, calibration_end=as_of)
    try:
        fitted = clv.clv_fit(summary)
    except ValueError as exc:
        parameters: dict = {"clv": f"not fitted: {exc}"}
        neutral = {
            "expected_purchases_90d": 0.0,
            "expected_purchases_365d": 0.0,
            "p_alive": 1.0,
            "expected_order_value": 0.0,
            "predicted_clv_12m": 0.0,
            "high_value": False,
            "churn_risk": 0.0,
        }
        return table.assign(**neutral), parameters
    correction = clv.seasonal_correction(purchase_days, calibration_end=as_of)
    predictions = clv.clv_predict(fitted, summary, margin=margin, correction=correction)
    parameters = {
        **fitted.parameters,
        "clv_margin_rate": margin,
        "seasonal_correction": correction.as_parameters(),
    }
    return table.merge(predictions, on="customer_id", how="left", validate="one_to_one"), parameters


def segments_default_as_of() -> dt.date:
    """Today, or the day after the latest order when the order history ends earlier (a historic or
    late-loaded data set): recency and "alive" are measured from the end of what we know."""
    today = timezone.localdate()
    latest = Order.objects.aggregate(latest=Max("placed_at"))["latest"]
    if latest is None:
        return today
    return min(today, timezone.localdate(latest) + dt.timedelta(days=1))


def segments_compute(
    *, as_of: dt.date | None = None, progress: Callable[..., None] | None = None, job_id: int | None = None
) -> SegmentRun:
    """Compute RFM and CLV for every customer with a purchase up to ``as_of`` (default: see
    ``segments_default_as_of``) and store them as one ``SegmentRun`` with its ``CustomerSegment`` rows,
    in one transaction."""
    as_of = as_of or segments_default_as_of()
    progress = progress or (lambda fraction, message="": None)
    started = time.monotonic()
    progress(0.05, "Reading orders")
    purchase_days = purchase_day_frame(until=as_of)
    progress(0.25, f"Scoring {purchase_days['customer_id'].nunique():,} customers")
    table, parameters = segment_table(purchase_days, as_of=as_of, margin=settings.CLV_MARGIN_RATE)
    progress(0.75, "Writing segments")
    counts = {group: 0 for group in rfm.GROUPS}
    counts.update({str(k): int(v) for k, v in table["rfm_group"].value_counts().items()})
    parameters["seconds"] = round(time.monotonic() - started, 2)
    with transaction.atomic():
        run = SegmentRun.objects.create(
            as_of=as_of,
            job_id=job_id,
            parameters=parameters,
            group_counts=counts,
            customer_count=len(table),
        )
        columns = [table[name].tolist() for name in SEGMENT_FIELDS[2:]]
        rows = (
            (run.pk, int(customer_id), *values)
            for customer_id, *values in zip(table["customer_id"].tolist(), *columns, strict=True)
        )
        bulk_insert_rows(CustomerSegment, SEGMENT_FIELDS, rows)
    progress(1.0, f"{len(table):,} customers segmented")
    logger.info("Segments as of %s: %d customers in %.1f s", as_of, len(table), time.monotonic() - started)
    return run


def segments_job_create(*, as_of: dt.date | None = None, user=None, message: str = "") -> Job:
    """The Job row of a segments run (``crm.tasks.marketing.segments_enqueue`` queues it)."""
    return job_create(
        kind=Job.Kind.SEGMENTS,
        params={"as_of": as_of.isoformat() if as_of else None},
        user=user,
        message=message,
    )

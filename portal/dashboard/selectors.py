"""What the staff dashboard reads: KPIs, revenue over time, segments, model quality, jobs.

Time windows are relative to the latest order in the data, not to today, so that a historic data
set (a retailer's export, or the demo's with ``setup_demo --keep-dates``) still shows its last 30 days.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from crm.models import OrderLine, SegmentRun
from crm.models.orders import Order, line_amount

KPI_WINDOW_DAYS = 30


def latest_order_at() -> dt.datetime | None:
    return Order.objects.sales().aggregate(latest=Max("placed_at"))["latest"]


def _cached(name: str, compute):
    """Aggregates over every order line are cached until an order is added (or a few minutes pass)."""
    state = Order.objects.aggregate(last=Max("id"), count=Count("id"))
    key = f"dashboard:{name}:{state['last']}:{state['count']}"
    return cache.get_or_set(key, compute, settings.DASHBOARD_CACHE_SECONDS)


def _change(current: Decimal | float | int, previous: Decimal | float | int) -> float | None:
    if not previous:
        return None
    return float(current - previous) / float(previous)


def dashboard_kpis(*, latest: dt.datetime | None = None) -> dict:
    """Revenue, orders, active customers and average order value: last 30 days vs the 30 before."""
    if latest is None:
        return _cached("kpis", lambda: _dashboard_kpis(latest=None))
    return _dashboard_kpis(latest=latest)


def _dashboard_kpis(*, latest: dt.datetime | None) -> dict:
    latest = latest or latest_order_at()
    if latest is None:
        # A shop without orders yet: every figure is zero, with no previous period to compare.
        kpis = ("revenue", "orders", "active_customers", "average_order_value")
        return {
            "as_of": None,
            "window_days": KPI_WINDOW_DAYS,
            **{name: 0 for name in kpis},
            **{f"{name}_change": None for name in kpis},
        }
    current_start = latest - dt.timedelta(days=KPI_WINDOW_DAYS)
    previous_start = current_start - dt.timedelta(days=KPI_WINDOW_DAYS)
    current = Q(order__placed_at__gt=current_start, order__placed_at__lte=latest)
    previous = Q(order__placed_at__gt=previous_start, order__placed_at__lte=current_start)
    totals = OrderLine.objects.sales().aggregate(
        revenue=Sum(line_amount(), filter=current),
        previous_revenue=Sum(line_amount(), filter=previous),
        orders=Count("order", distinct=True, filter=current),
        previous_orders=Count("order", distinct=True, filter=previous),
        customers=Count("order__customer", distinct=True, filter=current),
        previous_customers=Count("order__customer", distinct=True, filter=previous),
    )
    revenue = totals["revenue"] or Decimal(0)
    previous_revenue = totals["previous_revenue"] or Decimal(0)
    aov = revenue / totals["orders"] if totals["orders"] else Decimal(0)
    previous_aov = previous_revenue / totals["previous_orders"] if totals["previous_orders"] else Decimal(0)
    return {
        "as_of": latest,
        "window_days": KPI_WINDOW_DAYS,
        "revenue": revenue,
        "revenue_change": _change(revenue, previous_revenue),
        "orders": totals["orders"],
        "orders_change": _change(totals["orders"], totals["previous_orders"]),
        "active_customers": totals["customers"],
        "active_customers_change": _change(totals["customers"], totals["previous_customers"]),
        "average_order_value": aov,
        "average_order_value_change": _change(aov, previous_aov),
    }


def revenue_series(*, period: str = "month") -> list[dict]:
    """Revenue and order count per calendar week or month over the whole span of the data; a period with
    no sale is there at 0, and a gap of more than a year is one row with ``period`` None (a break)."""
    truncate = {"week": TruncWeek, "month": TruncMonth}.get(period)
    if truncate is None:
        raise ValueError(f"Unknown period {period!r}; expected 'week' or 'month'")
    return _cached(f"revenue:{period}", lambda: _revenue_series(truncate))


def _revenue_series(truncate) -> list[dict]:
    # Totals per order first (grouped by plain columns, which every database does fast), then
    # per period in Python: a date function on every line is slow on SQLite (seconds for 500k).
    orders = (
        OrderLine.objects.sales()
        .values("order_id", "order__placed_at")
        .annotate(revenue=Sum(line_amount()))
        .order_by()
        .values_list("order__placed_at", "revenue")
    )
    tz = timezone.get_current_timezone()
    periods: dict[dt.date, dict] = {}
    for placed_at, revenue in orders:
        day = timezone.localtime(placed_at, tz).date() if timezone.is_aware(placed_at) else placed_at.date()
        start = day.replace(day=1) if truncate is TruncMonth else day - dt.timedelta(days=day.weekday())
        bucket = periods.setdefault(start, {"revenue": 0.0, "orders": 0})
        bucket["revenue"] += float(revenue or 0)
        bucket["orders"] += 1
    # Every period from the first to the last, one with no sale at 0 (a chart that skipped them drew a
    # gap of months as one step); a gap of more than a year is one break (period None), so that years
    # with no sales at all (an old history and this year's orders) do not squash the chart.
    series: list[dict] = []
    starts = sorted(periods)
    longest_gap = 12 if truncate is TruncMonth else 52
    for start, following in zip(starts, starts[1:] + [None] if starts else [], strict=True):
        series.append({"period": dt.datetime.combine(start, dt.time(), tzinfo=tz), **periods[start]})
        if following is None:
            continue
        gap = []
        empty = _next_period_start(start, truncate)
        while empty < following and len(gap) <= longest_gap:
            gap.append(empty)
            empty = _next_period_start(empty, truncate)
        if len(gap) > longest_gap:
            series.append({"period": None, "revenue": None, "orders": None})
            continue
        series += [
            {"period": dt.datetime.combine(empty, dt.time(), tzinfo=tz), "revenue": 0.0, "orders": 0}
            for empty in gap
        ]
    return series


def _next_period_start(start: dt.date, truncate) -> dt.date:
    if truncate is TruncMonth:
        return (start + dt.timedelta(days=32)).replace(day=1)
    return start + dt.timedelta(days=7)


def data_span() -> dict:
    return Order.objects.sales().aggregate(first=Min("placed_at"), last=Max("placed_at"))


def segment_sizes_latest() -> dict:
    """Customers per RFM group in the latest segment run, in the groups' own order."""
    from crm.models import CustomerSegment

    run = SegmentRun.objects.newest_first().first()
    if run is None:
        return {"run": None, "groups": []}
    counts = run.group_counts or {}
    groups = [
        {"key": key, "label": label, "count": int(counts.get(key, 0))}
        for key, label in CustomerSegment.RfmGroup.choices
        if key in counts
    ]
    return {"run": run, "groups": groups}

"""What the staff dashboard reads: KPIs, revenue over time, segments, model quality, jobs.

Time windows are relative to the latest order in the data, not to today, so that a historic data
set (the demo data ends in December 2011) still shows its last 30 days.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from crm.models import Job, OrderLine, SegmentRun
from crm.models.orders import Order
from recommender.models import ModelVersion

KPI_WINDOW_DAYS = 30
MODEL_ORDER = ("mlp", "personal_top", "popular", "item_knn", "als")
MODEL_LABELS = {
    "mlp": "MLP ranker",
    "personal_top": "Personal top-frequency",
    "popular": "Popular",
    "item_knn": "Item kNN",
    "als": "ALS",
}
VERSIONS_SHOWN = 20

LINE_AMOUNT = ExpressionWrapper(
    F("quantity") * F("unit_price") - F("discount"),
    output_field=DecimalField(max_digits=18, decimal_places=4),
)


def _sales_lines():
    return OrderLine.objects.exclude(order__status__in=[Order.Status.CANCELLED, Order.Status.RETURNED])


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
    totals = _sales_lines().aggregate(
        revenue=Sum(LINE_AMOUNT, filter=current),
        previous_revenue=Sum(LINE_AMOUNT, filter=previous),
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
    """Revenue and order count per calendar week or month over the whole span of the data."""
    truncate = {"week": TruncWeek, "month": TruncMonth}.get(period)
    if truncate is None:
        raise ValueError(f"Unknown period {period!r}; expected 'week' or 'month'")
    return _cached(f"revenue:{period}", lambda: _revenue_series(truncate))


def _revenue_series(truncate) -> list[dict]:
    # Totals per order first (grouped by plain columns, which every database does fast), then
    # per period in Python: a date function on every line is slow on SQLite (seconds for 500k).
    orders = (
        _sales_lines()
        .values("order_id", "order__placed_at")
        .annotate(revenue=Sum(LINE_AMOUNT))
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
    return [
        {"period": dt.datetime.combine(start, dt.time(), tzinfo=tz), **values}
        for start, values in sorted(periods.items())
    ]


def data_span() -> dict:
    return Order.objects.sales().aggregate(first=Min("placed_at"), last=Max("placed_at"))


def segment_sizes_latest() -> dict:
    """Customers per RFM group in the latest segment run, in the groups' own order."""
    from crm.models import CustomerSegment

    run = SegmentRun.objects.order_by("-as_of", "-created_at").first()
    if run is None:
        return {"run": None, "groups": []}
    counts = run.group_counts or {}
    groups = [
        {"key": key, "label": label, "count": int(counts.get(key, 0))}
        for key, label in CustomerSegment.RfmGroup.choices
        if key in counts
    ]
    return {"run": run, "groups": groups}


# Metric columns of the quality table: (key, label); "new_items.x" reads metric x on new items only.
METRIC_COLUMNS = (
    ("ndcg@10", "NDCG@10"),
    ("recall@10", "Recall@10"),
    ("hit_rate@10", "Hit rate@10"),
    ("precision@10", "Precision@10"),
    ("map@10", "MAP@10"),
    ("coverage", "Coverage"),
    ("new_items.ndcg@10", "New items NDCG@10"),
    ("new_items.recall@10", "New items Recall@10"),
)
# The dashboard's card has room for these; the models page shows every column.
DASHBOARD_METRICS = ("ndcg@10", "recall@10", "new_items.ndcg@10")


def _metric_value(model_metrics: dict, key: str) -> float | None:
    for part in key.split("."):
        if not isinstance(model_metrics, dict):
            return None
        model_metrics = model_metrics.get(part)
    return (
        model_metrics
        if isinstance(model_metrics, int | float) and not isinstance(model_metrics, bool)
        else None
    )


def model_quality_table(
    *, model_version: ModelVersion | None, metrics: tuple[str, ...] | None = None
) -> dict:
    """One row per model (the MLP and each baseline) of a version, one column per metric (those of
    ``metrics`` only, when given)."""
    if model_version is None or not model_version.metrics:
        return {"version": model_version, "columns": [], "rows": []}
    chosen = metrics
    metrics = {name: values for name, values in model_version.metrics.items() if isinstance(values, dict)}
    names = [name for name in MODEL_ORDER if name in metrics] + sorted(
        name for name in metrics if name not in MODEL_ORDER
    )
    columns = [
        {"key": key, "label": label}
        for key, label in METRIC_COLUMNS
        if (chosen is None or key in chosen)
        and any(_metric_value(metrics[name], key) is not None for name in names)
    ]
    best = {
        column["key"]: max(
            (value for name in names if (value := _metric_value(metrics[name], column["key"])) is not None),
            default=None,
        )
        for column in columns
    }
    rows = [
        {
            "key": name,
            "label": MODEL_LABELS.get(name, name),
            "cells": [
                {
                    "value": _metric_value(metrics[name], column["key"]),
                    "best": best[column["key"]] is not None
                    and _metric_value(metrics[name], column["key"]) == best[column["key"]],
                }
                for column in columns
            ],
        }
        for name in names
    ]
    return {"version": model_version, "columns": columns, "rows": rows}


def model_version_list(*, limit: int = VERSIONS_SHOWN) -> list[ModelVersion]:
    return list(ModelVersion.objects.select_related("job").order_by("-created_at")[:limit])


def best_baseline_ndcg(model_version: ModelVersion) -> tuple[str, float] | None:
    candidates = [
        (name, values.get("ndcg@10"))
        for name, values in (model_version.metrics or {}).items()
        if name != "mlp" and isinstance(values, dict) and isinstance(values.get("ndcg@10"), int | float)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda pair: pair[1])


def ndcg_by_version(versions: list[ModelVersion]) -> dict:
    """NDCG@10 of the MLP and of the best baseline per version, oldest first, for a line chart."""
    measured = [version for version in reversed(versions) if version.ndcg is not None]
    best = [best_baseline_ndcg(version) for version in measured]
    return {
        "labels": [f"v{version.pk}" for version in measured],
        "series": {
            "MLP": [version.ndcg for version in measured],
            "Best baseline": [pair[1] if pair else None for pair in best],
        },
    }


def job_list_recent(*, limit: int = 10) -> list[Job]:
    return list(Job.objects.select_related("created_by").order_by("-created_at")[:limit])


def job_list_unfinished(*, limit: int = 20) -> list[Job]:
    return list(Job.objects.unfinished().select_related("created_by").order_by("-created_at")[:limit])

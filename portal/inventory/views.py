import datetime as dt
import math

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.models import Job
from core.selectors import job_latest_unfinished
from crm.models import Product
from inventory import selectors
from inventory.tasks import forecast_enqueue
from portal.charts import line_chart_svg
from portal.guards import staff_required
from portal.responses import job_on_its_way

LIST_SIZE = 25
REORDER_PAGE_SIZE = 50
HISTORY_DAYS = 56


def _rows(frame) -> list[dict]:
    rows = frame.to_dict("records")
    for row in rows:
        if math.isinf(row["weeks_of_cover"]):
            row["weeks_of_cover"] = None
    return rows


def _backtest_table(run) -> tuple[list[str], list[dict]]:
    """Columns (candidates and baselines) and one row per demand class plus all products."""
    if run is None or not run.backtest:
        return [], []
    columns = list(run.backtest.get("all", {}).get("wrmsse", {}))
    rows = []
    for name, row in run.backtest.items():
        scores = row.get("wrmsse", {})
        rows.append(
            {
                "name": name,
                "products": row.get("products", 0),
                "chosen": row.get("chosen", "per class"),
                "scores": [scores.get(column) for column in columns],
                "coverage": row.get("interval_coverage"),
            }
        )
    return columns, rows


@staff_required("view_inventory")
@require_GET
def inventory_overview(request: HttpRequest) -> HttpResponse:
    run = selectors.forecast_run_latest()
    frame = selectors.replenishment_frame(run=run)
    columns, backtest = _backtest_table(run)
    context = {
        "run": run,
        "at_risk": _rows(selectors.replenishment_at_risk(frame=frame).head(LIST_SIZE)),
        "at_risk_count": len(selectors.replenishment_at_risk(frame=frame)),
        "overstock": _rows(selectors.replenishment_overstock(frame=frame).head(LIST_SIZE)),
        "overstock_count": len(selectors.replenishment_overstock(frame=frame)),
        "overstock_weeks": settings.INVENTORY_OVERSTOCK_WEEKS,
        "reorder_count": int((frame["order_quantity"] > 0).sum()) if len(frame) else 0,
        "backtest_columns": columns,
        "backtest": backtest,
        "running": job_latest_unfinished(kind=Job.Kind.FORECAST),
        "service_level": settings.INVENTORY_SERVICE_LEVEL,
    }
    return render(request, "staff/inventory/overview.html", context)


@staff_required("manage_inventory")
@require_POST
def inventory_forecast_now(request: HttpRequest) -> HttpResponse:
    """Queue a forecast, unless one is queued or running (its run would be the same): the page then
    follows that one."""
    if on_its_way := job_on_its_way(request, kind=Job.Kind.FORECAST, what="A demand forecast"):
        return on_its_way
    job = forecast_enqueue(user=request.user)
    messages.success(request, "Demand forecast queued.")
    return redirect("staff:job_detail", job_id=job.pk)


@staff_required("view_inventory")
@require_GET
def inventory_reorder_list(request: HttpRequest) -> HttpResponse:
    run = selectors.forecast_run_latest()
    show_all = request.GET.get("show") == "all"
    frame = selectors.replenishment_reorder_list(run=run, to_order_only=not show_all)
    page = Paginator(_rows(frame), REORDER_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "run": run,
        "page": page,
        "rows": page.object_list,
        "show_all": show_all,
        "query": "show=all" if show_all else "",
    }
    return render(request, "staff/inventory/reorder_list.html", context)


@staff_required("view_inventory")
@require_GET
def inventory_reorder_csv(request: HttpRequest) -> HttpResponse:
    """The rows of the reorder list's page (``?show=all`` as there), for a supplier."""
    run = selectors.forecast_run_latest()
    if run is None:
        raise Http404("No forecast yet.")
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="replenishment-{run.as_of:%Y-%m-%d}.csv"'
    selectors.replenishment_export_csv(out=response, run=run, to_order_only=request.GET.get("show") != "all")
    return response


@staff_required("view_inventory")
@require_GET
def inventory_product(request: HttpRequest, external_id: str) -> HttpResponse:
    product = get_object_or_404(Product, external_id=external_id)
    forecast = selectors.product_forecast_for_product(product=product)
    chart = None
    plan = None
    if forecast is not None:
        as_of = forecast.run.as_of
        start = as_of - dt.timedelta(days=HISTORY_DAYS)
        sold = selectors.product_daily_sales(product=product, start=start, end=as_of)
        history_days = [start + dt.timedelta(days=i) for i in range(HISTORY_DAYS)]
        horizon = len(forecast.daily)
        future_days = [as_of + dt.timedelta(days=i) for i in range(horizon)]
        gap = [None] * HISTORY_DAYS
        chart = line_chart_svg(
            labels=[day.strftime("%d %b") for day in history_days + future_days],
            series={
                "Sold": [float(sold.get(day, 0)) for day in history_days] + [None] * horizon,
                "Forecast": gap + list(forecast.daily),
                f"{forecast.run.level}% interval, low": gap + list(forecast.lower),
                f"{forecast.run.level}% interval, high": gap + list(forecast.upper),
            },
            title=f"Units sold per day and forecast of {product.name}",
            width=900,
            height=280,
        )
        frame = selectors.replenishment_frame(run=forecast.run, product_ids=[product.pk])
        plan = _rows(frame)[0] if len(frame) else None
    return render(
        request,
        "staff/inventory/product.html",
        {"product": product, "forecast": forecast, "chart": chart, "plan": plan},
    )

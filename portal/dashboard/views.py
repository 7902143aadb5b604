"""The dashboard: KPIs, revenue and orders, segment sizes, model quality, running jobs."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import selectors as job_selectors
from portal.charts import bar_chart_svg, hbar_chart_svg, line_chart_svg
from portal.dashboard import selectors as dashboard_selectors
from portal.guards import staff_required
from recommender import selectors as recommender_selectors
from recommender.models import ModelVersion


@staff_required("view_portal")
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "month")
    if period not in ("week", "month"):
        period = "month"
    kpis = dashboard_selectors.dashboard_kpis()
    series = dashboard_selectors.revenue_series(period=period)
    label_format = "%d %b %y" if period == "week" else "%b %Y"
    labels = [row["period"].strftime(label_format) if row["period"] else "…" for row in series]
    segments = dashboard_selectors.segment_sizes_latest()
    versions = recommender_selectors.model_version_list()
    served = next((version for version in versions if version.status == ModelVersion.Status.ACTIVE), None)
    ndcg = recommender_selectors.ndcg_by_version(versions)
    click_through = recommender_selectors.click_through_rate_by_version()
    context = {
        "kpis": kpis,
        "period": period,
        "revenue_chart": line_chart_svg(
            labels=labels, series={"Revenue": [row["revenue"] for row in series]}, title="Revenue"
        ),
        "orders_chart": bar_chart_svg(
            labels=labels, values=[row["orders"] for row in series], title="Orders"
        ),
        "segments": segments,
        "segment_chart": hbar_chart_svg(
            labels=[group["label"] for group in segments["groups"]],
            values=[group["count"] for group in segments["groups"]],
            title="Customers by RFM group",
        ),
        "served": served,
        "quality": recommender_selectors.model_quality_table(
            model_version=served, metrics=recommender_selectors.DASHBOARD_METRICS
        ),
        "ndcg_chart": line_chart_svg(
            labels=ndcg["labels"],
            series=ndcg["series"],
            title="NDCG@10 by model version",
            format_value=lambda value: f"{value:.2f}",
        ),
        "click_through": click_through,
        "ctr_chart": bar_chart_svg(
            labels=[f"v{row['model_version_id']}" for row in reversed(click_through)],
            values=[100 * (row["ctr"] or 0) for row in reversed(click_through)],
            title="Recommendation click-through rate (%)",
            format_value=lambda value: f"{value:.1f}",
            height=200,
        ),
        "running_jobs": job_selectors.job_list_unfinished(),
        "recent_jobs": job_selectors.job_list_recent(),
    }
    return render(request, "staff/dashboard.html", context)

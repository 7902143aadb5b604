"""The staff portal: dashboard, customers, segments, promotions, models, data import and jobs.

Views validate input, call one service or selector and render; each page costs a fixed number of
queries whatever the size of the data.
"""

import csv
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_GET, require_POST

from crm.models import Customer, CustomerNote, CustomerSegment, Job, Promotion, PromotionTarget, SegmentRun
from crm.selectors import customers as customer_selectors
from crm.selectors import dashboard as dashboard_selectors
from crm.selectors import marketing
from crm.selectors.catalogue import recommendations_with_reasons
from crm.services import promotions
from crm.services.jobs import job_create, job_fail
from crm.services.segments import segments_enqueue
from crm.tasks.imports import import_orders_task
from crm.views.charts import bar_chart_svg, hbar_chart_svg, line_chart_svg
from crm.views.forms import CustomerFilterForm, CustomerNoteForm, ImportUploadForm, PromotionForm
from crm.views.guards import staff_required
from recommender.models import ModelVersion
from recommender.selectors import click_through_rate_by_version, recommendation_list_for_customer
from recommender.services.activation import model_version_activate
from recommender.services.training import training_enqueue

CUSTOMERS_PER_PAGE = 50
JOBS_PER_PAGE = 50
RECOMMENDATIONS_SHOWN = 10
SEGMENT_LIST_SIZE = 25
RFM_LABELS = dict(CustomerSegment.RfmGroup.choices)


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming CSV rows."""

    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list], *, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Dashboard ---------------------------------------------------------------------------------


@staff_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "month")
    if period not in ("week", "month"):
        period = "month"
    kpis = dashboard_selectors.dashboard_kpis()
    series = dashboard_selectors.revenue_series(period=period)
    label_format = "%d %b %y" if period == "week" else "%b %Y"
    labels = [row["period"].strftime(label_format) for row in series]
    segments = dashboard_selectors.segment_sizes_latest()
    versions = dashboard_selectors.model_version_list()
    served = next((version for version in versions if version.status == ModelVersion.Status.ACTIVE), None)
    ndcg = dashboard_selectors.ndcg_by_version(versions)
    click_through = click_through_rate_by_version()
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
        "quality": dashboard_selectors.model_quality_table(
            model_version=served, metrics=dashboard_selectors.DASHBOARD_METRICS
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
        "running_jobs": dashboard_selectors.job_list_unfinished(),
        "recent_jobs": dashboard_selectors.job_list_recent(),
    }
    return render(request, "staff/dashboard.html", context)


# --- Customers ---------------------------------------------------------------------------------


def _customer_filter_form(request: HttpRequest) -> CustomerFilterForm:
    return CustomerFilterForm(request.GET or None, countries=customer_selectors.customer_country_list())


@staff_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    form = _customer_filter_form(request)
    customers = customer_selectors.customer_list(
        filters=form.to_filters(), run_id=customer_selectors.segment_run_latest_id()
    )
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/customer_list.html",
        {"form": form, "page": page, "customers": page.object_list, "query": query.urlencode()},
    )


@staff_required
@require_GET
def customer_list_csv(request: HttpRequest) -> StreamingHttpResponse:
    form = _customer_filter_form(request)
    customers = customer_selectors.customer_list(
        filters=form.to_filters(), run_id=customer_selectors.segment_run_latest_id()
    )
    return csv_response(customer_selectors.customer_csv_rows(customers), filename="customers.csv")


def _customer_detail_context(customer: Customer, note_form: CustomerNoteForm) -> dict:
    recommendations = recommendations_with_reasons(
        recommendation_list_for_customer(customer=customer, limit=RECOMMENDATIONS_SHOWN)
    )
    return {
        "customer": customer,
        "orders": customer_selectors.customer_order_list(customer=customer),
        "totals": customer_selectors.customer_order_totals(customer=customer),
        "segment": marketing.customer_segment_latest(customer=customer),
        "recommendations": recommendations,
        "notes": customer_selectors.customer_note_list(customer=customer),
        "note_form": note_form,
    }


@staff_required
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.select_related("user"), pk=customer_id)
    return render(
        request, "staff/customer_detail.html", _customer_detail_context(customer, CustomerNoteForm())
    )


@staff_required
@require_POST
def customer_note_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.select_related("user"), pk=customer_id)
    form = CustomerNoteForm(request.POST)
    if not form.is_valid():
        return render(
            request, "staff/customer_detail.html", _customer_detail_context(customer, form), status=400
        )
    CustomerNote.objects.create(
        customer=customer, author=request.user, kind=form.cleaned_data["kind"], body=form.cleaned_data["body"]
    )
    messages.success(request, "Note added.")
    return redirect("staff:customer_detail", customer_id=customer.pk)


# --- Segments ----------------------------------------------------------------------------------


@staff_required
@require_GET
def segments(request: HttpRequest) -> HttpResponse:
    runs = list(SegmentRun.objects.order_by("-as_of", "-created_at", "-pk")[:2])
    run = runs[0] if runs else None
    counts = marketing.segment_group_counts(run=run) if run else {}
    groups = [{"key": key, "label": label, "count": counts.get(key, 0)} for key, label in RFM_LABELS.items()]
    movement = []
    if len(runs) == 2:
        movement = [
            {
                "source": RFM_LABELS.get(source, source),
                "target": RFM_LABELS.get(target, target),
                "count": count,
            }
            for source, target, count in marketing.segment_movement(from_run=runs[1], to_run=runs[0])
            if source != target
        ][:SEGMENT_LIST_SIZE]
    context = {
        "run": run,
        "season": (run.parameters or {}).get("seasonal_correction") if run else None,
        "previous_run": runs[1] if len(runs) == 2 else None,
        "groups": groups,
        "group_chart": hbar_chart_svg(
            labels=[group["label"] for group in groups],
            values=[group["count"] for group in groups],
            title="Customers by RFM group",
        ),
        "movement": movement,
        "high_value": list(marketing.customer_list_high_value(run=run)[:SEGMENT_LIST_SIZE]) if run else [],
        "at_risk": list(marketing.customer_list_at_risk(run=run)[:SEGMENT_LIST_SIZE]) if run else [],
        "running": Job.objects.unfinished().filter(kind=Job.Kind.SEGMENTS).order_by("-created_at").first(),
    }
    return render(request, "staff/segments.html", context)


SEGMENT_LIST_CSV_COLUMNS = (
    "customer_id",
    "name",
    "email",
    "country",
    "email_opt_in",
    "rfm_group",
    "recency_days",
    "frequency",
    "monetary",
    "predicted_clv_12m",
    "p_alive",
    "churn_risk",
    "high_value",
)


def _segment_rows(segment_list: QuerySet[CustomerSegment]) -> Iterable[list]:
    yield list(SEGMENT_LIST_CSV_COLUMNS)
    for segment in segment_list.iterator(chunk_size=2000):
        customer = segment.customer
        yield [
            customer.external_id,
            customer.name,
            customer.email,
            customer.country,
            int(customer.email_opt_in),
            segment.rfm_group,
            segment.recency_days,
            segment.frequency,
            f"{segment.monetary:.2f}",
            f"{segment.predicted_clv_12m:.2f}",
            f"{segment.p_alive:.4f}",
            f"{segment.churn_risk:.4f}",
            int(segment.high_value),
        ]


@staff_required
@require_GET
def segments_csv(request: HttpRequest) -> HttpResponse:
    """The latest run: everyone, one RFM group (?group=), or the high-value / at-risk list (?list=)."""
    run = marketing.segment_run_latest()
    if run is None:
        raise Http404("No segments have been computed yet.")
    chosen, group = request.GET.get("list", ""), request.GET.get("group", "")
    if group and group not in RFM_LABELS:
        return HttpResponseBadRequest(
            f"Unknown RFM group {group!r}; expected one of {', '.join(RFM_LABELS)}."
        )
    if chosen == "high_value":
        segment_list = marketing.customer_list_high_value(run=run)
    elif chosen == "at_risk":
        segment_list = marketing.customer_list_at_risk(run=run)
    elif chosen:
        return HttpResponseBadRequest(f"Unknown list {chosen!r}; expected high_value or at_risk.")
    elif group:
        segment_list = marketing.customer_segment_list(run=run).order_by("customer__external_id")
    else:
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="segments-{run.as_of:%Y-%m-%d}.csv"'
        marketing.segment_export_csv(run=run, out=response)
        return response
    if group:
        segment_list = segment_list.filter(rfm_group=group)
    filename = f"segments-{run.as_of:%Y-%m-%d}-{chosen or group}.csv"
    return csv_response(_segment_rows(segment_list), filename=filename)


@staff_required
@require_POST
def segments_recompute(request: HttpRequest) -> HttpResponse:
    job = segments_enqueue(user=request.user)
    messages.success(request, "Segment computation queued.")
    return redirect("staff:job_detail", job_id=job.pk)


# --- Promotions --------------------------------------------------------------------------------


@staff_required
@require_GET
def promotion_list(request: HttpRequest) -> HttpResponse:
    promotions = Promotion.objects.select_related("category").order_by("-created_at")
    page = Paginator(promotions, 50).get_page(request.GET.get("page"))
    return render(request, "staff/promotion_list.html", {"page": page, "promotions": page.object_list})


# Service error keys that have a different name on the form.
PROMOTION_FORM_FIELDS = {"products": "skus", "seed": None}


@staff_required
def promotion_create(request: HttpRequest) -> HttpResponse:
    form = PromotionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            promotion = promotions.promotion_create(
                name=data["name"],
                description=data["description"],
                product_ids=[product.pk for product in form.products()],
                category_id=data["category"].pk if data["category"] else None,
                discount_percent=data["discount_percent"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                channel=data["channel"],
                audience_size=data["audience_size"],
                control_share=data["control_share"],
                exclude_bought_within_days=data["exclude_bought_within_days"],
                exclude_contacted_within_days=data["exclude_contacted_within_days"],
                user=request.user,
            )
        except ValidationError as exc:
            for field, field_errors in exc.message_dict.items():
                name = PROMOTION_FORM_FIELDS.get(field, field)
                form.add_error(name if name in form.fields else None, field_errors)
        else:
            messages.success(request, f"Promotion “{promotion.name}” created.")
            return redirect("staff:promotion_detail", promotion_id=promotion.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/promotion_form.html", {"form": form}, status=status)


@staff_required
@require_GET
def promotion_detail(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = get_object_or_404(
        Promotion.objects.select_related("category").prefetch_related("products"), pk=promotion_id
    )
    group_counts = dict(
        promotion.targets.order_by().values("group").annotate(n=Count("pk")).values_list("group", "n")
    )
    job = (
        Job.objects.filter(kind=Job.Kind.TARGETS, params__promotion_id=promotion.pk)
        .order_by("-created_at")
        .first()
    )
    context = {
        "promotion": promotion,
        "targets": list(marketing.promotion_target_list(promotion=promotion)[:SEGMENT_LIST_SIZE]),
        "target_count": group_counts.get(PromotionTarget.Group.TARGET, 0),
        "control_count": group_counts.get(PromotionTarget.Group.CONTROL, 0),
        "results": promotion.results or None,
        "job": job,
    }
    return render(request, "staff/promotion_detail.html", context)


@staff_required
@require_POST
def promotion_compute_targets(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = get_object_or_404(Promotion, pk=promotion_id)
    promotions.promotion_targets_enqueue(promotion=promotion, user=request.user)
    messages.success(request, "Target computation queued.")
    return redirect("staff:promotion_detail", promotion_id=promotion.pk)


@staff_required
@require_POST
def promotion_measure_results(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = get_object_or_404(Promotion, pk=promotion_id)
    try:
        promotions.promotion_results(promotion=promotion)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Results measured.")
    return redirect("staff:promotion_detail", promotion_id=promotion.pk)


@staff_required
@require_GET
def promotion_targets_csv(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = get_object_or_404(Promotion, pk=promotion_id)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="promotion-{promotion.pk}-targets.csv"'
    marketing.promotion_targets_csv(promotion=promotion, out=response)
    return response


# --- Models ------------------------------------------------------------------------------------

ACTIVATABLE = (ModelVersion.Status.READY, ModelVersion.Status.RETIRED, ModelVersion.Status.REJECTED)


@staff_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    versions = dashboard_selectors.model_version_list()
    served = next((version for version in versions if version.status == ModelVersion.Status.ACTIVE), None)
    rows = []
    for version in versions:
        best = dashboard_selectors.best_baseline_ndcg(version)
        rows.append(
            {
                "version": version,
                "best_baseline": best,
                "lift": (version.ndcg / best[1] - 1)
                if best and best[1] and version.ndcg is not None
                else None,
                "can_activate": version.status in ACTIVATABLE and version.scored_at is not None,
            }
        )
    ndcg = dashboard_selectors.ndcg_by_version(versions)
    context = {
        "rows": rows,
        "served": served,
        "quality": dashboard_selectors.model_quality_table(
            model_version=served or (versions[0] if versions else None)
        ),
        "ndcg_chart": line_chart_svg(
            labels=ndcg["labels"],
            series=ndcg["series"],
            title="NDCG@10 by model version",
            format_value=lambda value: f"{value:.2f}",
        ),
        "training_jobs": [
            job for job in dashboard_selectors.job_list_unfinished() if job.kind == Job.Kind.TRAIN
        ],
    }
    return render(request, "staff/model_list.html", context)


@staff_required
@require_POST
def model_train(request: HttpRequest) -> HttpResponse:
    job = training_enqueue(user=request.user)
    messages.success(request, "Training queued.")
    return redirect("staff:job_detail", job_id=job.pk)


@staff_required
@require_POST
def model_activate(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion, pk=version_id)
    try:
        model_version_activate(model_version=version)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Model v{version.pk} is now served.")
    return redirect("staff:model_list")


# --- Data import -------------------------------------------------------------------------------


def _save_upload(uploaded) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex[:12]}-{get_valid_filename(Path(uploaded.name).name)}"
    with path.open("wb") as target:
        for chunk in uploaded.chunks():
            target.write(chunk)
    return path


@staff_required
def data_import(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        path = _save_upload(uploaded)
        job = job_create(
            kind=Job.Kind.IMPORT,
            user=request.user,
            params={
                "path": str(path),
                "file_format": form.cleaned_data["layout"],
                "file_type": uploaded.file_type,
                "skip_invalid": form.cleaned_data["skip_invalid"],
                "original_name": uploaded.name,
            },
        )
        try:
            import_orders_task.delay(job.pk)
        except Exception as exc:
            job_fail(job_id=job.pk, error=f"Could not queue the import: {exc}")
            raise
        messages.success(request, f"“{uploaded.name}” uploaded; the import is queued.")
        return redirect("staff:job_detail", job_id=job.pk)
    recent = (
        Job.objects.filter(kind=Job.Kind.IMPORT).select_related("created_by").order_by("-created_at")[:10]
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "staff/data_import.html",
        {"form": form, "recent_imports": list(recent), "max_bytes": settings.IMPORT_UPLOAD_MAX_BYTES},
        status=status,
    )


# --- Jobs --------------------------------------------------------------------------------------


@staff_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.select_related("created_by").order_by("-created_at")
    kind = request.GET.get("kind", "")
    if kind in Job.Kind.values:
        jobs = jobs.filter(kind=kind)
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/job_list.html",
        {
            "page": page,
            "jobs": page.object_list,
            "kind": kind,
            "kinds": Job.Kind.choices,
            "query": urlencode({"kind": kind}) if kind else "",
        },
    )


@staff_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job.objects.select_related("created_by"), pk=job_id)
    return render(request, "staff/job_detail.html", {"job": job})


def job_as_dict(job: Job) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "kind_display": job.get_kind_display(),
        "status": job.status,
        "status_display": job.get_status_display(),
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        "is_finished": job.is_finished,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


@staff_required
@require_GET
def job_status_json(request: HttpRequest, job_id: int) -> JsonResponse:
    job = get_object_or_404(Job, pk=job_id)
    return JsonResponse(job_as_dict(job))

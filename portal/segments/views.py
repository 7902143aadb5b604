"""Segments: RFM groups, movement between runs, high-value and at-risk lists, CSV export."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.models import Job
from core.selectors import job_latest_unfinished
from crm.models import AuditEvent, CustomerSegment
from crm.selectors import marketing
from crm.services.privacy import audit_record
from crm.tasks.marketing import segments_enqueue
from portal.charts import hbar_chart_svg
from portal.guards import BadExportParameter, export_pseudonymized, staff_required
from portal.responses import bad_request

SEGMENT_LIST_SIZE = 25


RFM_LABELS = dict(CustomerSegment.RfmGroup.choices)


@staff_required("view_portal")
@require_GET
def segments(request: HttpRequest) -> HttpResponse:
    run, previous_run = marketing.segment_run_latest_two()
    counts = marketing.segment_group_counts(run=run) if run else {}
    groups = [{"key": key, "label": label, "count": counts.get(key, 0)} for key, label in RFM_LABELS.items()]
    movement = []
    if previous_run is not None:
        movement = [
            {
                "source": RFM_LABELS.get(source, source),
                "target": RFM_LABELS.get(target, target),
                "count": count,
            }
            for source, target, count in marketing.segment_movement(from_run=previous_run, to_run=run)
            if source != target
        ][:SEGMENT_LIST_SIZE]
    context = {
        "run": run,
        "season": (run.parameters or {}).get("seasonal_correction") if run else None,
        "previous_run": previous_run,
        "groups": groups,
        "group_chart": hbar_chart_svg(
            labels=[group["label"] for group in groups],
            values=[group["count"] for group in groups],
            title="Customers by RFM group",
        ),
        "movement": movement,
        "high_value": list(marketing.customer_list_high_value(run=run)[:SEGMENT_LIST_SIZE]) if run else [],
        "at_risk": list(marketing.customer_list_at_risk(run=run)[:SEGMENT_LIST_SIZE]) if run else [],
        "running": job_latest_unfinished(kind=Job.Kind.SEGMENTS),
    }
    return render(request, "staff/segments.html", context)


SEGMENT_LISTS = {
    "high_value": marketing.customer_list_high_value,
    "at_risk": marketing.customer_list_at_risk,
}


@staff_required("export_personal_data", "export_pseudonymized")
@require_GET
def segments_csv(request: HttpRequest) -> HttpResponse:
    """The latest run in the layout of ``export_segments``: everyone, one RFM group (?group=), or the
    high-value / at-risk list (?list=, in that list's order); ``?pseudonymize=1`` names customers by
    their keyed pseudonym, the only file an analyst may take."""
    try:
        pseudonymized = export_pseudonymized(request)
    except BadExportParameter as bad:
        return bad_request(str(bad))
    run = marketing.segment_run_latest()
    if run is None:
        raise Http404("No segments have been computed yet.")
    chosen, group = request.GET.get("list", ""), request.GET.get("group", "")
    if group and group not in RFM_LABELS:
        return bad_request(f"Unknown RFM group; expected one of {', '.join(RFM_LABELS)}.")
    if chosen and chosen not in SEGMENT_LISTS:
        return bad_request(f"Unknown list; expected one of {', '.join(SEGMENT_LISTS)}.")
    segment_list = SEGMENT_LISTS[chosen](run=run) if chosen else None
    if group:
        if segment_list is None:
            segment_list = marketing.customer_segment_list(run=run).order_by("customer__external_id")
        segment_list = segment_list.filter(rfm_group=group)
    suffix = "-".join(part for part in (chosen, group, "pseudonymized" if pseudonymized else "") if part)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="segments-{run.as_of:%Y-%m-%d}{"-" + suffix if suffix else ""}.csv"'
    )
    count = marketing.segment_export_csv(
        run=run, out=response, segments=segment_list, pseudonymized=pseudonymized
    )
    audit_record(
        action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
        actor=request.user,
        via="portal",
        detail={
            "file": "segments",
            "run": run.pk,
            "list": chosen,
            "group": group,
            "rows": count,
            "pseudonymized": pseudonymized,
        },
    )
    return response


@staff_required("manage_segments")
@require_POST
def segments_recompute(request: HttpRequest) -> HttpResponse:
    job = segments_enqueue(user=request.user)
    messages.success(request, "Segment computation queued.")
    return redirect("staff:job_detail", job_id=job.pk)

"""Background jobs: the list, one job, and its status as JSON for the progress bars."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from core import selectors as job_selectors
from core.models import Job
from portal.guards import staff_required

JOBS_PER_PAGE = 50


@staff_required("view_portal")
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in Job.Kind.values:
        kind = ""
    page = Paginator(job_selectors.job_list(kind=kind), JOBS_PER_PAGE).get_page(request.GET.get("page"))
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


@staff_required("view_portal")
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


@staff_required("view_portal")
@require_GET
def job_status_json(request: HttpRequest, job_id: int) -> JsonResponse:
    job = get_object_or_404(Job, pk=job_id)
    return JsonResponse(job_as_dict(job))

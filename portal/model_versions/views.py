"""Model versions: metrics against the baselines, train now, activate (roll back)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.models import Job
from core.selectors import job_list_unfinished
from portal.charts import line_chart_svg
from portal.guards import staff_required
from recommender import selectors as recommender_selectors
from recommender.models import ModelVersion
from recommender.services.activation import model_version_activate
from recommender.tasks import training_enqueue

ACTIVATABLE = (ModelVersion.Status.READY, ModelVersion.Status.RETIRED, ModelVersion.Status.REJECTED)


@staff_required("view_portal")
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    versions = recommender_selectors.model_version_list()
    served = next((version for version in versions if version.status == ModelVersion.Status.ACTIVE), None)
    rows = []
    for version in versions:
        best = recommender_selectors.best_baseline_ndcg(version)
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
    ndcg = recommender_selectors.ndcg_by_version(versions)
    context = {
        "rows": rows,
        "served": served,
        "quality": recommender_selectors.model_quality_table(
            model_version=served or (versions[0] if versions else None)
        ),
        "ndcg_chart": line_chart_svg(
            labels=ndcg["labels"],
            series=ndcg["series"],
            title="NDCG@10 by model version",
            format_value=lambda value: f"{value:.2f}",
        ),
        "training_jobs": [job for job in job_list_unfinished() if job.kind == Job.Kind.TRAIN],
    }
    return render(request, "staff/model_list.html", context)


@staff_required("manage_models")
@require_POST
def model_train(request: HttpRequest) -> HttpResponse:
    job = training_enqueue(user=request.user)
    messages.success(request, "Training queued.")
    return redirect("staff:job_detail", job_id=job.pk)


@staff_required("manage_models")
@require_POST
def model_activate(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion, pk=version_id)
    try:
        model_version_activate(model_version=version, actor=request.user, via="portal")
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Model v{version.pk} is now served.")
    return redirect("staff:model_list")

"""Model versions: metrics against the baselines, train now, activate (roll back), the served lists'
weight of never-bought products."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.models import Job
from core.roles import staff_permission
from portal.charts import line_chart_svg
from portal.guards import staff_required
from portal.model_versions import selectors
from portal.responses import job_on_its_way
from recommender.models import ModelVersion
from recommender.services.activation import model_version_activate
from recommender.services.discovery import NewItemWeightError
from recommender.tasks import new_item_weight_enqueue, training_enqueue


@staff_required("view_portal")
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    overview = selectors.model_versions_overview()
    ndcg = overview.pop("ndcg")
    weight_choice = overview["weight_choice"]
    context = {
        **overview,
        # the card's form: the served version's weight under "auto", for those who manage models
        "can_set_weight": bool(weight_choice and weight_choice["settable"])
        and request.user.has_perm(staff_permission("manage_models")),
        "ndcg_chart": line_chart_svg(
            labels=ndcg["labels"],
            series=ndcg["series"],
            title="NDCG@10 by model version",
            format_value=lambda value: f"{value:.2f}",
        ),
    }
    return render(request, "staff/model_list.html", context)


@staff_required("manage_models")
@require_POST
def model_train(request: HttpRequest) -> HttpResponse:
    """Queue a training, unless one is queued or running: a second click (or a colleague's) would train
    the same data again in full once the first is done. The page then follows the one on its way."""
    if on_its_way := job_on_its_way(request, kind=Job.Kind.TRAIN, what="A training"):
        return on_its_way
    job = training_enqueue(user=request.user)
    messages.success(request, "Training queued.")
    return redirect("staff:job_detail", job_id=job.pk)


@staff_required("manage_models")
@require_POST
def model_activate(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion, pk=version_id)
    if version.status == ModelVersion.Status.ACTIVE:
        messages.info(request, f"Model v{version.pk} is already served.")
        return redirect("staff:model_list")
    try:
        model_version_activate(model_version=version, actor=request.user, via="portal")
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Model v{version.pk} is now served.")
    return redirect("staff:model_list")


@staff_required("manage_models")
@require_POST
def model_new_item_weight(request: HttpRequest, version_id: int) -> HttpResponse:
    """Serve the version's lists at another of the weights its training measured: scored again as a new
    version, served when done (the job's page shows the progress)."""
    version = get_object_or_404(ModelVersion, pk=version_id)
    raw = request.POST.get("weight", "")
    try:
        weight = float(raw)
    except ValueError:
        messages.error(request, f"The weight must be a number, got {raw!r}.")
        return redirect("staff:model_list")
    try:
        job = new_item_weight_enqueue(model_version=version, weight=weight, user=request.user)
    except NewItemWeightError as exc:
        messages.error(request, str(exc))
        return redirect("staff:model_list")
    messages.success(
        request, f"v{version.pk}'s lists are being scored again at x{weight:g}; served when done."
    )
    return redirect("staff:job_detail", job_id=job.pk)

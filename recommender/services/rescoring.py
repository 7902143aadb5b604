"""Hourly rescoring of the served model when the data it was scored on has changed."""

import datetime as dt

from django.db import transaction
from django.db.models import Max

from core.jobs import job_create
from core.models import Job
from crm.models import Order, Product
from recommender.models import ModelVersion


def served_version_if_stale(*, now: dt.datetime) -> ModelVersion | None:
    """The served version when the catalogue or order history changed since it was scored (and nothing
    else is being trained or scored); otherwise None."""
    served = ModelVersion.objects.active().first()
    if served is None or served.scored_at is None:
        return None
    if ModelVersion.objects.in_progress().exists():
        return None
    changed_at = max(
        filter(
            None,
            [
                Product.objects.aggregate(at=Max("updated_at"))["at"],
                Order.objects.aggregate(at=Max("created_at"))["at"],
            ],
        ),
        default=None,
    )
    if changed_at is None or changed_at <= served.scored_at:
        return None
    return served


def rescore_version_create(
    *, model_version: ModelVersion, user=None, params: dict | None = None
) -> ModelVersion:
    """A new version sharing ``model_version``'s trained artifact, to be scored on today's catalogue
    (``recommender.tasks.rescore_enqueue`` sends it to a worker). ``params`` change its copy of the
    version's parameters: a key given None is dropped from it, every other key is copied as it is."""
    copied = {**model_version.params, **(params or {}), "rescore_of": model_version.pk}
    for key, value in (params or {}).items():
        if value is None:
            del copied[key]
    with transaction.atomic():
        job = job_create(kind=Job.Kind.SCORE, user=user, params={"rescore_of": model_version.pk})
        rescored = ModelVersion.objects.create(
            status=ModelVersion.Status.READY,
            params=copied,
            data_start=model_version.data_start,
            data_end=model_version.data_end,
            validation_cutoff=model_version.validation_cutoff,
            counts=model_version.counts,
            metrics=model_version.metrics,
            artifact_path=model_version.artifact_path,
            timings={key: value for key, value in model_version.timings.items() if "score" not in key},
            job=job,
            trained_at=model_version.trained_at,
        )
        job.params = {**job.params, "model_version_id": rescored.pk}
        job.save(update_fields=["params"])
    return rescored

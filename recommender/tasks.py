"""Celery tasks of the recommender: take ids, call one service each, report through Job rows."""

import logging
import os

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from crm.models import Job
from crm.services.jobs import JobReporter, job_fail, job_start, job_succeed
from recommender.models import ModelVersion
from recommender.services.activation import model_version_activate
from recommender.services.scoring import model_version_score
from recommender.services.training import model_version_train, quality_gate, training_enqueue

logger = logging.getLogger(__name__)

# Share of a training job's progress bar spent training; the rest is scoring.
TRAINING_SHARE = 0.7


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.RECOMMENDER_TRAIN_SOFT_TIME_LIMIT,
    time_limit=settings.RECOMMENDER_TRAIN_TIME_LIMIT,
)
def train_model_version_task(self, model_version_id: int) -> None:
    version = ModelVersion.objects.get(pk=model_version_id)
    if version.status == ModelVersion.Status.TRAINING:
        # The message came back because the process training it died (killed, out of memory).
        # Training again could die the same way, so the version is failed, not retried.
        error = (
            "The worker process running this training stopped before it finished (killed or out of memory)."
        )
        ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.FAILED, error=error)
        if version.job_id:
            job_fail(job_id=version.job_id, error=error)
        return
    if version.status != ModelVersion.Status.QUEUED:
        logger.info("Model version %s is %s; nothing to train.", version.pk, version.status)
        return
    job_id = version.job_id
    if job_id:
        job_start(job_id=job_id, message="Training")
        Job.objects.filter(pk=job_id).update(
            result={"model_version_id": version.pk, "worker_pid": os.getpid()}
        )
    reporter = JobReporter(job_id, end=TRAINING_SHARE)
    try:
        version = model_version_train(model_version=version, progress=reporter)
    except SoftTimeLimitExceeded:
        error = f"Training ran past its time limit ({settings.RECOMMENDER_TRAIN_SOFT_TIME_LIMIT} s)."
        ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.FAILED, error=error)
        if job_id:
            job_fail(job_id=job_id, error=error)
        return
    except Exception as exc:
        if job_id:
            job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        logger.exception("Training model version %s failed", version.pk)
        return

    passed, verdict = quality_gate(model_version=version)
    if not passed and version.params.get("force"):
        verdict = f"Served by request although: {verdict}"
    elif not passed:
        ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.REJECTED, error=verdict)
        if job_id:
            job_succeed(
                job_id=job_id,
                result={"model_version_id": version.pk, "served": False, "verdict": verdict},
                message=f"Trained v{version.pk}; not served: {verdict}"[:255],
            )
        return
    if not version.params.get("activate", True):
        if job_id:
            job_succeed(
                job_id=job_id,
                result={"model_version_id": version.pk, "served": False, "verdict": verdict},
                message=f"Trained v{version.pk}; activation not requested",
            )
        return
    score_model_version_task.delay(version.pk, activate=True)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def score_model_version_task(self, model_version_id: int, activate: bool = True) -> None:
    version = ModelVersion.objects.get(pk=model_version_id)
    if version.status not in (ModelVersion.Status.READY, ModelVersion.Status.SCORING):
        logger.info("Model version %s is %s; not scoring.", version.pk, version.status)
        return
    job_id = version.job_id
    if job_id:
        Job.objects.filter(pk=job_id).update(
            result={"model_version_id": version.pk, "worker_pid": os.getpid()}
        )
    reporter = JobReporter(job_id, start=TRAINING_SHARE if job_id else 0.0)
    try:
        version = model_version_score(model_version=version, progress=reporter)
        if activate:
            version = model_version_activate(model_version=version)
    except Exception as exc:
        if job_id:
            job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        logger.exception("Scoring model version %s failed", version.pk)
        return
    if job_id:
        job_succeed(
            job_id=job_id,
            result={"model_version_id": version.pk, "served": version.status == ModelVersion.Status.ACTIVE},
            message=f"Serving model v{version.pk}" if activate else f"Scored model v{version.pk}",
        )


@shared_task
def scheduled_retrain_task() -> None:
    """Nightly: train a new version unless one is already queued or training."""
    if ModelVersion.objects.filter(
        status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING, ModelVersion.Status.SCORING]
    ).exists():
        return
    training_enqueue()


@shared_task
def scheduled_rescore_task() -> None:
    """Hourly: rescore the served version when the catalogue or order history changed since its scoring.

    The rescored rows are written under a new version that shares the served artifact, and served by
    the same atomic switch, so readers never see a half-written list.
    """
    from recommender.services.rescoring import rescore_if_stale

    rescore_if_stale(now=timezone.now())

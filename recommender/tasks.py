"""Celery tasks of the recommender: take ids, call the pipeline (``recommender.services.pipeline``),
report through Job rows. The ``*_enqueue`` functions are how the portal, the commands and beat start them."""

import logging
import os

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.jobs import JobReporter, job_fail, job_start, job_succeed
from core.models import Job
from recommender.models import ModelVersion
from recommender.services.pipeline import model_version_score_and_switch, model_version_train_and_gate
from recommender.services.rescoring import rescore_version_create, served_version_if_stale
from recommender.services.training import training_version_create

logger = logging.getLogger(__name__)

# Share of a training job's progress bar spent training; the rest is scoring.
TRAINING_SHARE = 0.7


def training_enqueue(
    *, user=None, activate: bool = True, force: bool = False, config: dict | None = None
) -> Job:
    """Queue a training run (see ``training_version_create``); it is sent once the caller commits."""
    version = training_version_create(user=user, activate=activate, force=force, config=config)
    transaction.on_commit(lambda: train_model_version_task.delay(version.pk))
    return version.job


def rescore_enqueue(*, model_version: ModelVersion, user=None) -> Job:
    """Score ``model_version``'s artifact again on today's catalogue, as a new version, and serve it."""
    rescored = rescore_version_create(model_version=model_version, user=user)
    transaction.on_commit(lambda: score_model_version_task.delay(rescored.pk, activate=True))
    return rescored.job


def _record_worker(job_id: int | None, version: ModelVersion) -> None:
    if job_id:
        Job.objects.filter(pk=job_id).update(
            result={"model_version_id": version.pk, "worker_pid": os.getpid()}
        )


def _fail(version: ModelVersion, error: str) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.FAILED, error=error)
    if version.job_id:
        job_fail(job_id=version.job_id, error=error)


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
        _fail(
            version,
            "The worker process running this training stopped before it finished (killed or out of memory).",
        )
        return
    if version.status != ModelVersion.Status.QUEUED:
        logger.info("Model version %s is %s; nothing to train.", version.pk, version.status)
        return
    job_id = version.job_id
    if job_id:
        job_start(job_id=job_id, message="Training")
    _record_worker(job_id, version)
    try:
        outcome = model_version_train_and_gate(
            model_version=version, progress=JobReporter(job_id, end=TRAINING_SHARE)
        )
    except SoftTimeLimitExceeded:
        _fail(version, f"Training ran past its time limit ({settings.RECOMMENDER_TRAIN_SOFT_TIME_LIMIT} s).")
        return
    except Exception as exc:
        if job_id:
            job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        logger.exception("Training model version %s failed", version.pk)
        return
    if not outcome.go_on:
        if job_id:
            job_succeed(
                job_id=job_id,
                result={"model_version_id": version.pk, "served": False, "verdict": outcome.verdict},
                message=f"Trained v{version.pk}; not served: {outcome.verdict}"[:255],
            )
        return
    score_model_version_task.delay(version.pk, activate=version.params.get("activate", True))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def score_model_version_task(self, model_version_id: int, activate: bool = True) -> None:
    version = ModelVersion.objects.get(pk=model_version_id)
    if version.status not in (ModelVersion.Status.READY, ModelVersion.Status.SCORING):
        logger.info("Model version %s is %s; not scoring.", version.pk, version.status)
        return
    job_id = version.job_id
    _record_worker(job_id, version)
    try:
        version = model_version_score_and_switch(
            model_version=version,
            activate=activate,
            progress=JobReporter(job_id, start=TRAINING_SHARE if job_id else 0.0),
        )
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
    """Nightly: train a new version unless one is already on its way."""
    if not ModelVersion.objects.in_progress().exists():
        training_enqueue()


@shared_task
def scheduled_rescore_task() -> None:
    """Hourly: rescore the served version when the catalogue or order history changed since its scoring.

    The rescored rows are written under a new version that shares the served artifact, and served by
    the same atomic switch, so readers never see a half-written list.
    """
    served = served_version_if_stale(now=timezone.now())
    if served is not None:
        rescore_enqueue(model_version=served)

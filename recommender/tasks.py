"""Celery tasks of the recommender: take ids, call the pipeline (``recommender.services.pipeline``),
report through Job rows. The ``*_enqueue`` functions are how the portal, the commands and beat start them.

A scoring runs as chunk tasks over customer-id ranges that any worker on any machine can take, each
writing its range idempotently; the last chunk to succeed queues the finishing step, which writes the
neighbour and popular lists and switches what is served. A chunk that fails fails the version, and the
served one stays. Every task is a ``core.tasks.job_task``: redeliveries and second copies never run twice.
"""

import logging
import os
import time

from celery import current_task, shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.jobs import JobReporter, job_create, job_fail, job_succeed
from core.models import Job
from core.tasks import JobFailed, job_hand_over, job_send, job_task
from recommender.models import ModelVersion
from recommender.services.discovery import new_item_weight_version_create
from recommender.services.pipeline import (
    model_version_score_and_switch,
    model_version_switch,
    model_version_train_and_gate,
)
from recommender.services.rescoring import rescore_version_create, served_version_if_stale
from recommender.services.scoring import (
    model_version_score_finish,
    model_version_score_range,
    model_version_score_start,
    scoring_ranges,
)
from recommender.services.training import training_version_create
from recommender.services.versions import model_versions_sweep

logger = logging.getLogger(__name__)

# Share of a training job's progress bar spent training; the rest is scoring.
TRAINING_SHARE = 0.7
TRAINING_LOCK = "recommender-training"


def training_enqueue(
    *, user=None, activate: bool = True, force: bool = False, config: dict | None = None
) -> Job:
    """Queue a training run (see ``training_version_create``); it is sent once the caller commits."""
    version = training_version_create(user=user, activate=activate, force=force, config=config)
    job_send(job=version.job, task_name=train_model_version_task.name, args=[version.pk])
    return version.job


def rescore_enqueue(*, model_version: ModelVersion, user=None) -> Job:
    """Score ``model_version``'s artifact again on today's catalogue, as a new version, and serve it."""
    rescored = rescore_version_create(model_version=model_version, user=user)
    job_send(job=rescored.job, task_name=score_model_version_task.name, args=[rescored.pk, True])
    return rescored.job


def new_item_weight_enqueue(*, model_version: ModelVersion, weight: float, user=None) -> Job:
    """Score the served ``model_version``'s artifact again with its lists at ``weight`` of never-bought
    products, as a new version, and serve it (``services.discovery.new_item_weight_version_create``)."""
    rescored = new_item_weight_version_create(model_version=model_version, weight=weight, actor=user)
    job_send(job=rescored.job, task_name=score_model_version_task.name, args=[rescored.pk, True])
    return rescored.job


def _version_job_id(model_version_id: int, *args, kind: str = Job.Kind.SCORE, **kwargs) -> int:
    """The Job of a version; a version made without one (by hand, in a shell) gets one."""
    version = ModelVersion.objects.get(pk=model_version_id)
    if version.job_id is None:
        job = job_create(kind=kind, params={"model_version_id": version.pk})
        ModelVersion.objects.filter(pk=version.pk, job__isnull=True).update(job=job)
        version.refresh_from_db()
    return version.job_id


def _fail_version_of(job: Job, reason: str) -> None:
    ModelVersion.objects.filter(job_id=job.pk).exclude(
        status__in=[ModelVersion.Status.ACTIVE, ModelVersion.Status.RETIRED, ModelVersion.Status.REJECTED]
    ).update(status=ModelVersion.Status.FAILED, error=reason)


@job_task(
    job_id_from=lambda model_version_id, **kwargs: _version_job_id(model_version_id, kind=Job.Kind.TRAIN),
    lock_key=lambda job: TRAINING_LOCK,
    on_failure=_fail_version_of,
    # Training again after its worker died could die the same way: one start only.
    max_deliveries=1,
    soft_time_limit=settings.RECOMMENDER_TRAIN_SOFT_TIME_LIMIT,
    time_limit=settings.RECOMMENDER_TRAIN_TIME_LIMIT,
)
def train_model_version_task(job: Job, model_version_id: int):
    version = ModelVersion.objects.get(pk=model_version_id)
    if version.status != ModelVersion.Status.QUEUED:
        return {"model_version_id": version.pk, "served": False}, f"Model v{version.pk} is {version.status}"
    Job.objects.filter(pk=job.pk).update(result={"model_version_id": version.pk, "worker_pid": os.getpid()})
    outcome = model_version_train_and_gate(
        model_version=version, progress=JobReporter(job.pk, end=TRAINING_SHARE)
    )
    if not outcome.go_on:
        result = {"model_version_id": version.pk, "served": False, "verdict": outcome.verdict}
        return result, f"Trained v{version.pk}; not served: {outcome.verdict}"
    job_hand_over(
        job=job,
        task_name=score_model_version_task.name,
        args=[version.pk, version.params.get("activate", True)],
        message=f"Trained v{version.pk}; queued for scoring",
    )
    return None


@job_task(job_id_from=_version_job_id, on_failure=_fail_version_of)
def score_model_version_task(job: Job, model_version_id: int, activate: bool = True):
    """Split the scoring into chunk tasks (run in this process when the task itself runs eagerly)."""
    version = ModelVersion.objects.get(pk=model_version_id)
    if version.status not in (ModelVersion.Status.READY, ModelVersion.Status.SCORING):
        return {"model_version_id": version.pk, "served": False}, f"Model v{version.pk} is {version.status}"
    start = TRAINING_SHARE if job.kind == Job.Kind.TRAIN else 0.0
    if current_task.request.is_eager:
        version = model_version_score_and_switch(
            model_version=version, activate=activate, progress=JobReporter(job.pk, start=start)
        )
        return _served_result(version, activate)
    if job.children.exists():
        return None  # dispatched already (this is a redelivery): the chunks carry on
    customer_ids = model_version_score_start(model_version=version)
    ranges = scoring_ranges(customer_ids, settings.RECOMMENDER_SCORE_CHUNK_SIZE)
    common = {"model_version_id": version.pk, "activate": activate, "progress_start": start}
    with transaction.atomic():
        Job.objects.create(
            kind=Job.Kind.SCORE_FINISH,
            parent=job,
            params={**common, "chunks": len(ranges), "customers": int(len(customer_ids)), "t0": time.time()},
            message="Waiting for the chunks",
        )
        for index, (low, high) in enumerate(ranges):
            chunk = Job.objects.create(
                kind=Job.Kind.SCORE_CHUNK,
                parent=job,
                params={**common, "index": index, "low": low, "high": high},
                message="Queued",
            )
            job_send(job=chunk, task_name=score_chunk_task.name)
        Job.objects.filter(pk=job.pk).update(
            message=f"Scoring {len(customer_ids):,} customers in {len(ranges)} chunks"
        )
    return None


def _served_result(version: ModelVersion, activate: bool):
    served = version.status == ModelVersion.Status.ACTIVE
    result = {"model_version_id": version.pk, "served": served}
    if activate and not served:
        return {**result, "verdict": version.error}, f"Scored v{version.pk}; not served: {version.error}"
    return result, f"Serving model v{version.pk}" if served else f"Scored model v{version.pk}"


def _scoring_failed(job: Job, reason: str) -> None:
    """A chunk (or the finish) failed for good: the version fails, the served one stays."""
    params = job.params
    where = (
        f"chunk {params['index']} (customers {params['low']}..{params['high'] or 'end'})"
        if (job.kind == Job.Kind.SCORE_CHUNK)
        else "finishing step"
    )
    error = f"Scoring failed in its {where}: {reason}"
    ModelVersion.objects.filter(pk=params["model_version_id"], status=ModelVersion.Status.SCORING).update(
        status=ModelVersion.Status.FAILED, error=error
    )
    Job.objects.filter(parent_id=job.parent_id, status=Job.Status.QUEUED).update(
        status=Job.Status.FAILED, error="Another chunk of this scoring failed.", finished_at=timezone.now()
    )
    job_fail(job_id=job.parent_id, error=error)


def _chunk_done(job: Job) -> None:
    """Count the chunks done under the parent's lock; the last one queues the finishing step."""
    with transaction.atomic():
        parent = Job.objects.select_for_update().get(pk=job.parent_id)
        chunks = parent.children.filter(kind=Job.Kind.SCORE_CHUNK)
        done, total = chunks.filter(status=Job.Status.SUCCEEDED).count(), chunks.count()
        start = job.params.get("progress_start", 0.0)
        Job.objects.filter(pk=parent.pk).update(
            progress=start + (0.95 - start) * done / max(1, total),
            message=f"Scored {done} of {total} chunks",
            heartbeat_at=timezone.now(),
        )
        if done == total and parent.status == Job.Status.RUNNING:
            finish = parent.children.get(kind=Job.Kind.SCORE_FINISH)
            job_send(job=finish, task_name=finish_scoring_task.name)


@job_task(on_failure=_scoring_failed, on_success=_chunk_done)
def score_chunk_task(job: Job) -> dict:
    params = job.params
    version = ModelVersion.objects.get(pk=params["model_version_id"])
    if version.status != ModelVersion.Status.SCORING:
        raise JobFailed(f"Model version {version.pk} is {version.status}, not scoring.")
    written = model_version_score_range(model_version=version, low=params["low"], high=params["high"])
    return {"rows": written, "worker": current_task.request.hostname or "", "pid": os.getpid()}


@job_task(on_failure=_scoring_failed)
def finish_scoring_task(job: Job):
    params = job.params
    version = ModelVersion.objects.get(pk=params["model_version_id"])
    parent = job.parent
    chunks = parent.children.filter(kind=Job.Kind.SCORE_CHUNK)
    if chunks.exclude(status=Job.Status.SUCCEEDED).exists():
        raise JobFailed("Not every chunk of this scoring succeeded.")
    if version.status == ModelVersion.Status.SCORING:
        version = model_version_score_finish(
            model_version=version, scored_customers=params["customers"], seconds=time.time() - params["t0"]
        )
    elif version.status != ModelVersion.Status.READY:
        raise JobFailed(f"Model version {version.pk} is {version.status}, not scoring.")
    if params["activate"]:
        version, _verdict = model_version_switch(model_version=version)
    result, message = _served_result(version, params["activate"])
    workers = sorted({chunk.result.get("worker", "") for chunk in chunks})
    result = {**result, "chunks": chunks.count(), "workers": workers}
    job_succeed(job_id=parent.pk, result=result, message=message)
    return result, message


@shared_task(soft_time_limit=60, time_limit=120)
def scheduled_retrain_task() -> None:
    """Nightly: train a new version unless one is already on its way."""
    if not ModelVersion.objects.in_progress().exists():
        training_enqueue()


@shared_task(soft_time_limit=60, time_limit=120)
def scheduled_rescore_task() -> None:
    """Hourly: rescore the served version when the catalogue or order history changed since its scoring.

    The rescored rows are written under a new version that shares the served artifact, and served by
    the same atomic switch, so readers never see a half-written list.
    """
    served = served_version_if_stale(now=timezone.now())
    if served is not None:
        rescore_enqueue(model_version=served)


def scoring_finishes_resend() -> int:
    """Queue again the finishing step of scorings whose chunks all succeeded but whose finish was never
    sent (the worker of the last chunk died between its success and the send); a duplicate is harmless."""
    open_chunks = Job.objects.filter(parent_id=OuterRef("parent_id"), kind=Job.Kind.SCORE_CHUNK).exclude(
        status=Job.Status.SUCCEEDED
    )
    finishes = Job.objects.filter(
        kind=Job.Kind.SCORE_FINISH, status=Job.Status.QUEUED, parent__status=Job.Status.RUNNING
    ).exclude(Exists(open_chunks))
    sent = 0
    for finish in finishes:
        job_send(job=finish, task_name=finish_scoring_task.name, on_commit=False)
        sent += 1
    return sent


@shared_task(soft_time_limit=120, time_limit=180)
def sweep_model_versions_task() -> int:
    """Every few minutes (beat): versions left queued, training or scoring by a job that ended are failed,
    and scorings whose last chunk died before it queued the finish are finished."""
    scoring_finishes_resend()
    return model_versions_sweep()

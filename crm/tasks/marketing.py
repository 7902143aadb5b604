"""Marketing tasks: segments (on demand and nightly) and promotion targets."""

import datetime as dt

from celery import shared_task
from django.db import transaction

from core.jobs import job_running, job_succeed
from core.models import Job
from crm.models import Promotion
from crm.services.promotions import promotion_compute_targets, promotion_targets_job_create
from crm.services.segments import segments_compute, segments_job_create

__all__ = [
    "compute_promotion_targets_task",
    "compute_segments_task",
    "promotion_targets_enqueue",
    "scheduled_segments_task",
    "segments_enqueue",
]


def segments_enqueue(*, as_of: dt.date | None = None, user=None) -> Job:
    """A segments job for a worker, sent once the caller's transaction commits; the portal and
    ``compute_segments`` follow the Job row."""
    job = segments_job_create(as_of=as_of, user=user)
    transaction.on_commit(lambda: compute_segments_task.delay(job.pk))
    return job


def promotion_targets_enqueue(*, promotion: Promotion, user=None) -> Job:
    """A job computing the promotion's targets in a worker, sent once the caller's transaction commits."""
    job = promotion_targets_job_create(promotion=promotion, user=user)
    transaction.on_commit(lambda: compute_promotion_targets_task.delay(job.pk))
    return job


@shared_task
def compute_segments_task(job_id: int) -> None:
    as_of = Job.objects.get(pk=job_id).params.get("as_of")
    with job_running(job_id) as progress:
        run = segments_compute(
            as_of=dt.date.fromisoformat(as_of) if as_of else None, progress=progress, job_id=job_id
        )
        job_succeed(
            job_id=job_id,
            result={
                "segment_run_id": run.pk,
                "as_of": run.as_of.isoformat(),
                "customers": run.customer_count,
                "group_counts": run.group_counts,
                "parameters": run.parameters,
            },
            message=f"{run.customer_count:,} customers segmented",
        )


@shared_task
def scheduled_segments_task() -> None:
    """Nightly refresh (beat): a Job row like any other, so the portal shows it."""
    job = segments_job_create(message="Nightly segments")
    compute_segments_task(job.pk)


@shared_task
def compute_promotion_targets_task(job_id: int) -> None:
    promotion_id = Job.objects.get(pk=job_id).params["promotion_id"]
    with job_running(job_id) as progress:
        promotion = promotion_compute_targets(
            promotion=Promotion.objects.get(pk=promotion_id), progress=progress
        )
        counts = {group: promotion.targets.filter(group=group).count() for group in ("target", "control")}
        job_succeed(
            job_id=job_id,
            result={"promotion_id": promotion.pk, "model_version_id": promotion.model_version_id, **counts},
            message=f"{counts['target']:,} targets, {counts['control']:,} control",
        )

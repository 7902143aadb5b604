"""Marketing tasks: segments (on demand and nightly) and promotion targets."""

import datetime as dt

from celery import shared_task

from core.jobs import JobReporter
from core.models import Job
from core.tasks import job_send, job_task
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
    return job_send(job=job, task_name=compute_segments_task.name)


def promotion_targets_enqueue(*, promotion: Promotion, user=None) -> Job:
    """A job computing the promotion's targets in a worker, sent once the caller's transaction commits."""
    job = promotion_targets_job_create(promotion=promotion, user=user)
    return job_send(job=job, task_name=compute_promotion_targets_task.name)


# A segment run is written with its snapshot in one transaction: running it again is safe. One run at a
# time, so two runs for the same day never race on the snapshot.
@job_task(lock_key=lambda job: "segments")
def compute_segments_task(job: Job) -> tuple[dict, str]:
    as_of = job.params.get("as_of")
    run = segments_compute(
        as_of=dt.date.fromisoformat(as_of) if as_of else None, progress=JobReporter(job.pk), job_id=job.pk
    )
    result = {
        "segment_run_id": run.pk,
        "as_of": run.as_of.isoformat(),
        "customers": run.customer_count,
        "group_counts": run.group_counts,
        "parameters": run.parameters,
    }
    return result, f"{run.customer_count:,} customers segmented"


@shared_task(soft_time_limit=60, time_limit=120)
def scheduled_segments_task() -> None:
    """Nightly refresh (beat): a Job row like any other, so the portal shows it."""
    job = segments_job_create(message="Nightly segments")
    job_send(job=job, task_name=compute_segments_task.name, on_commit=False)


# Two target computations of one promotion never run at once: the second waits for the first.
@job_task(lock_key=lambda job: f"targets:{job.params['promotion_id']}")
def compute_promotion_targets_task(job: Job) -> tuple[dict, str]:
    promotion = promotion_compute_targets(
        promotion=Promotion.objects.get(pk=job.params["promotion_id"]), progress=JobReporter(job.pk)
    )
    counts = {group: promotion.targets.filter(group=group).count() for group in ("target", "control")}
    result = {"promotion_id": promotion.pk, "model_version_id": promotion.model_version_id, **counts}
    return result, f"{counts['target']:,} targets, {counts['control']:,} control"

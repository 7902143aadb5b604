"""Forecast runs in a worker (on demand and nightly); the interfaces enqueue through ``forecast_enqueue``."""

import datetime as dt

from celery import shared_task
from django.conf import settings

from core.jobs import JobReporter, job_create
from core.models import Job
from core.tasks import job_send, job_task
from inventory.services.forecasts import forecast_run_create

__all__ = ["forecast_demand_task", "forecast_enqueue", "scheduled_forecast_task"]

FORECAST_JOB_MESSAGE = "Demand forecast"


def forecast_enqueue(
    *,
    as_of: dt.date | None = None,
    horizon_days: int | None = None,
    user=None,
    message: str = f"{FORECAST_JOB_MESSAGE} queued",
    on_commit: bool = True,
) -> Job:
    """A forecast job for a worker, sent once the caller's transaction commits (or at once with
    ``on_commit=False``, as beat does); the portal and ``forecast_demand`` follow the Job row."""
    job = job_create(
        kind=Job.Kind.FORECAST,
        params={"as_of": as_of.isoformat() if as_of else None, "horizon_days": horizon_days},
        user=user,
        message=message,
    )
    return job_send(job=job, task_name=forecast_demand_task.name, on_commit=on_commit)


# A run is written in one transaction: running it again is safe. One forecast at a time, so two runs never
# prune each other's rows.
@job_task(lock_key=lambda job: "forecast")
def forecast_demand_task(job: Job) -> tuple[dict, str]:
    params = job.params
    run = forecast_run_create(
        as_of=dt.date.fromisoformat(params["as_of"]) if params.get("as_of") else None,
        horizon_days=int(params.get("horizon_days") or settings.INVENTORY_FORECAST_HORIZON_DAYS),
        progress=JobReporter(job.pk),
        job_id=job.pk,
    )
    result = {
        "forecast_run_id": run.pk,
        "as_of": run.as_of.isoformat(),
        "horizon_days": run.horizon_days,
        "products": run.product_count,
        "model_counts": run.model_counts,
        "seconds": run.seconds,
    }
    return result, f"{run.product_count:,} products forecast"


@shared_task(soft_time_limit=60, time_limit=120)
def scheduled_forecast_task() -> None:
    """Nightly forecast (beat): a Job row like any other, run by a worker, so the portal shows it."""
    forecast_enqueue(message=f"Nightly {FORECAST_JOB_MESSAGE}", on_commit=False)

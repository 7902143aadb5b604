"""Forecast runs in a worker (on demand and nightly); the interfaces enqueue through ``forecast_enqueue``."""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db import transaction

from core.jobs import job_create, job_running, job_succeed
from core.models import Job
from inventory.services.forecasts import forecast_run_create

__all__ = ["forecast_demand_task", "forecast_enqueue", "scheduled_forecast_task"]

FORECAST_JOB_MESSAGE = "Demand forecast"


@shared_task
def forecast_demand_task(job_id: int) -> None:
    params = Job.objects.get(pk=job_id).params
    with job_running(job_id) as progress:
        run = forecast_run_create(
            as_of=dt.date.fromisoformat(params["as_of"]) if params.get("as_of") else None,
            horizon_days=int(params.get("horizon_days") or settings.INVENTORY_FORECAST_HORIZON_DAYS),
            progress=progress,
            job_id=job_id,
        )
        job_succeed(
            job_id=job_id,
            result={
                "forecast_run_id": run.pk,
                "as_of": run.as_of.isoformat(),
                "horizon_days": run.horizon_days,
                "products": run.product_count,
                "model_counts": run.model_counts,
                "seconds": run.seconds,
            },
            message=f"{run.product_count:,} products forecast",
        )


@shared_task
def scheduled_forecast_task() -> None:
    """Nightly forecast (beat): a Job row like any other, so the portal shows it."""
    job = job_create(
        kind=Job.Kind.OTHER, params={"task": "forecast"}, message=f"Nightly {FORECAST_JOB_MESSAGE}"
    )
    forecast_demand_task(job.pk)


def forecast_enqueue(*, as_of: dt.date | None = None, horizon_days: int | None = None, user=None) -> Job:
    """A queued forecast job for a worker; the portal and ``forecast_demand`` follow the Job row."""
    job = job_create(
        kind=Job.Kind.OTHER,
        params={
            "task": "forecast",
            "as_of": as_of.isoformat() if as_of else None,
            "horizon_days": horizon_days,
        },
        user=user,
        message=f"{FORECAST_JOB_MESSAGE} queued",
    )
    transaction.on_commit(lambda: forecast_demand_task.delay(job.pk))
    return job

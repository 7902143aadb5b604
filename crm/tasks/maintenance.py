"""Small maintenance tasks."""

from celery import shared_task

from core.jobs import job_running, job_succeed


@shared_task
def count_customers_task(job_id: int) -> None:
    """A small job that shows a worker reaches the database (the worker integration test runs it)."""
    from crm.models import Customer

    with job_running(job_id):
        job_succeed(job_id=job_id, result={"customers": Customer.objects.count()})

"""Small maintenance tasks."""

from core.models import Job
from core.tasks import job_task


@job_task(soft_time_limit=60, time_limit=120)
def count_customers_task(job: Job) -> dict:
    """A small job that shows a worker reaches the database (the worker integration test runs it)."""
    from crm.models import Customer

    return {"customers": Customer.objects.count()}

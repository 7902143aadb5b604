import pytest

from core.jobs import job_create
from core.models import Job
from crm.tasks.maintenance import count_customers_task
from tests.conftest import wait_for_job
from tests.factories import CustomerFactory


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_job_against_the_database(celery_worker_process):
    # given three customers committed to the test database
    CustomerFactory.create_batch(3)
    job = job_create(kind=Job.Kind.OTHER)

    # when a real worker process picks the job up from the broker
    count_customers_task.delay(job.pk)

    # then its result is written by the worker and visible through the ORM
    finished = wait_for_job(job.pk, timeout=60)
    assert finished.status == Job.Status.SUCCEEDED, finished.error
    assert finished.result == {"customers": 3}
    assert finished.started_at is not None and finished.finished_at >= finished.started_at

"""Erasure from the command line (it asks first), and an import job's upload and error text."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.jobs import job_create
from core.models import Job
from crm.models import AuditEvent, Customer
from crm.tasks.imports import import_orders_task
from tests.factories import BehaviourEventFactory, CustomerFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

UCI_QUIRKS = Path(__file__).parent / "data" / "uci_quirks.csv"


@pytest.fixture
def customer_with_history():
    customer = CustomerFactory(external_id="C-ERASE", name="Ada Byron", email="ada@example.test")
    order = OrderFactory(customer=customer, external_id="O-ERASE")
    OrderLineFactory(order=order, quantity=3)
    BehaviourEventFactory(customer=customer)
    return customer


def test_the_command_asks_before_erasing(customer_with_history):
    # answering anything but yes erases nothing
    with pytest.raises(CommandError, match="Not erased"):
        call_command("erase_customer", "C-ERASE", stdin=io.StringIO("no\n"), stdout=io.StringIO())
    assert Customer.objects.filter(external_id="C-ERASE").exists()

    out = io.StringIO()
    call_command("erase_customer", "C-ERASE", stdin=io.StringIO("yes\n"), stdout=out)
    assert "Type 'yes' to erase" in out.getvalue() and "erased" in out.getvalue()
    assert not Customer.objects.filter(external_id="C-ERASE").exists()
    audit = AuditEvent.objects.get(action="customer_erased")
    assert audit.via == "command" and "command line" in audit.actor_name


def test_the_command_names_an_unknown_customer():
    with pytest.raises(CommandError, match="There is no customer 'NOBODY'"):
        call_command("erase_customer", "NOBODY", "--yes", stdout=io.StringIO())


def test_an_imported_upload_is_deleted_and_the_failed_jobs_error_holds_no_cell_values(
    eager_celery, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    uploads = tmp_path / "imports"
    uploads.mkdir()
    good = uploads / "a-good.csv"
    good.write_text(UCI_QUIRKS.read_text())
    bad = uploads / "b-bad.csv"
    bad.write_text(UCI_QUIRKS.read_text().replace("2010-12-02 09:00:00,2.10", "someday,2.10"))
    good_job = job_create(kind=Job.Kind.IMPORT, params={"path": str(good)})
    bad_job = job_create(kind=Job.Kind.IMPORT, params={"path": str(bad)})

    import_orders_task.delay(good_job.pk)
    import_orders_task.delay(bad_job.pk)

    good_job.refresh_from_db()
    bad_job.refresh_from_db()
    assert good_job.status == Job.Status.SUCCEEDED and bad_job.status == Job.Status.FAILED
    assert not good.exists() and not bad.exists()
    assert "line 8, column InvoiceDate: not an ISO 8601 date and time" in bad_job.error
    assert "someday" not in bad_job.error and "someday" not in bad_job.message


def test_a_file_outside_the_upload_folder_is_never_deleted(eager_celery, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = job_create(kind=Job.Kind.IMPORT, params={"path": str(UCI_QUIRKS)})
    import_orders_task.delay(job.pk)
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    assert UCI_QUIRKS.exists()

from pathlib import Path

import pytest

from core.jobs import job_create
from core.models import Job
from crm.models import Order
from crm.tasks.imports import import_orders_task
from tests.conftest import wait_for_job

UCI_QUIRKS = Path(__file__).resolve().parents[1] / "data" / "uci_quirks.csv"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_imports_a_file_and_reports_into_the_job(celery_worker_process):
    # given an import job for a UCI file
    job = job_create(kind=Job.Kind.IMPORT, params={"path": str(UCI_QUIRKS), "file_format": "auto"})

    # when a real worker runs it
    import_orders_task.delay(job.pk)

    # then the orders are in the database and the report in the job
    finished = wait_for_job(job.pk, timeout=90)
    assert finished.status == Job.Status.SUCCEEDED, finished.error
    assert finished.progress == 1.0
    assert finished.result["rows_imported"] == 12
    assert finished.result["orders"] == {"created": 8, "updated": 0, "unchanged": 0, "deleted": 0}
    assert Order.objects.count() == 8


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_records_the_first_errors_of_a_bad_file(celery_worker_process, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(UCI_QUIRKS.read_text().replace("2010-12-02 09:00:00,2.10", "someday,2.10"))
    job = job_create(kind=Job.Kind.IMPORT, params={"path": str(bad), "skip_invalid": False})

    import_orders_task.delay(job.pk)

    finished = wait_for_job(job.pk, timeout=90)
    assert finished.status == Job.Status.FAILED
    assert "line 8, column InvoiceDate: not an ISO 8601 date and time" in finished.error
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_task_with_skip_invalid_runs_eagerly(eager_celery, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(UCI_QUIRKS.read_text().replace("2010-12-02 09:00:00,2.10", "someday,2.10"))
    job = job_create(kind=Job.Kind.IMPORT, params={"path": str(bad), "skip_invalid": True})

    import_orders_task.delay(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["rows_rejected"] == 1 and job.result["errors"][0]["line"] == 8
    assert job.message == "11 rows imported, 1 rejected"
    assert job.result["source"] == "bad.csv"  # the file's name, not where it lay on the server


@pytest.mark.django_db
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
    bad_job = job_create(kind=Job.Kind.IMPORT, params={"path": str(bad), "original_name": "my orders.csv"})

    import_orders_task.delay(good_job.pk)
    import_orders_task.delay(bad_job.pk)

    good_job.refresh_from_db()
    bad_job.refresh_from_db()
    assert good_job.status == Job.Status.SUCCEEDED and bad_job.status == Job.Status.FAILED
    assert not good.exists() and not bad.exists()
    assert "line 8, column InvoiceDate: not an ISO 8601 date and time" in bad_job.error
    assert "someday" not in bad_job.error and "someday" not in bad_job.message
    # named as the uploader named it, each bad row once; the server's path is nowhere
    assert bad_job.error.startswith("my orders.csv: 1 bad row; nothing was imported.\n\n")
    assert bad_job.error.count("line 8, column InvoiceDate") == 1
    assert str(tmp_path) not in bad_job.error and bad_job.message == "1 bad row"


@pytest.mark.django_db
def test_a_file_outside_the_upload_folder_is_never_deleted(eager_celery, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = job_create(kind=Job.Kind.IMPORT, params={"path": str(UCI_QUIRKS)})
    import_orders_task.delay(job.pk)
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    assert UCI_QUIRKS.exists()


FIVE_BAD_ROWS = (
    "order_id,customer_id,product_id,product_name,category,quantity,unit_price,ordered_at,country\n"
    "W9,carol,SKU-7,Jug,Kitchen,1,5.00,2024-04-01T10:00:00Z,UK\n"
    "W1,alice,SKU-1,Mug,,x,y,2024-03-01T10:00:00Z,UK\n"
    "W2,bob,SKU-2,Cup,,1,4.50,yesterday,UK\n"
    "W3,bob,SKU-2,Cup,,1.5,-2,2024-03-01T10:00:00Z,UK\n"
    "W4,bob,,Cup,,1,4.50,2024-03-01T10:00:00Z,UK\n"
    ",bob,SKU-2,Cup,,1,4.50,2024-03-01T10:00:00Z,UK\n"
    "W10,carol,SKU-7,Jug,Kitchen,1,5.00,2024-04-01T10:00:00Z,UK\n"
)


@pytest.mark.django_db
@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_file_with_bad_rows_counts_the_rows_whichever_way_it_is_imported(
    eager_celery, tmp_path, skip_invalid
):
    """Five bad rows with seven errors between them failed as "7 bad rows" and were "5 rejected"."""
    bad = tmp_path / "bad.csv"
    bad.write_text(FIVE_BAD_ROWS)
    job = job_create(kind=Job.Kind.IMPORT, params={"path": str(bad), "skip_invalid": skip_invalid})

    import_orders_task.delay(job.pk)

    job.refresh_from_db()
    if skip_invalid:
        assert job.message == "2 rows imported, 5 rejected"
    else:
        assert job.message == "5 bad rows"
        assert job.error.startswith("bad.csv: 5 bad rows; nothing was imported.\n\n")


@pytest.mark.django_db
def test_a_file_with_an_unknown_header_is_not_reported_as_a_bad_row(eager_celery, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    job = job_create(kind=Job.Kind.IMPORT, params={"path": str(bad)})

    import_orders_task.delay(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "row" not in job.message
    assert job.error.startswith("bad.csv: a problem with the file itself; nothing was imported.\n\n")
    assert "line 1: unknown layout" in job.error

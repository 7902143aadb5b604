"""The imports room: an uploaded file is checked, stored and imported by a job."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from core.models import Job

CANONICAL_CSV = (
    "order_id,customer_id,product_id,product_name,category,quantity,unit_price,ordered_at,country\n"
    "W1,WEB-C1,WEB-P1,Red mug,Kitchen/Mugs,2,3.50,2011-12-01T10:00:00,United Kingdom\n"
    "W1,WEB-C1,WEB-P2,Blue mug,Kitchen/Mugs,1,3.50,2011-12-01T10:00:00,United Kingdom\n"
)


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@override_settings(IMPORT_UPLOAD_MAX_BYTES=100)
def test_upload_larger_than_the_limit_is_refused(staff_client, media_root):
    upload = SimpleUploadedFile("orders.csv", CANONICAL_CSV.encode(), content_type="text/csv")
    response = staff_client.post(reverse("staff:data_import"), {"file": upload, "layout": "auto"})
    assert response.status_code == 413
    assert "the largest accepted is 100" in response.content.decode()
    assert not Job.objects.exists()
    assert not (media_root / "imports").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("orders.exe", b"MZ\x90\x00", "Unsupported file type &#x27;.exe&#x27;"),
        ("orders", CANONICAL_CSV.encode(), "Unsupported file type &#x27;(none)&#x27;"),
        ("orders.csv", b"\x00\x01\x02binary", "its content is not a recognisable data file"),
        ("orders.parquet", CANONICAL_CSV.encode(), "named .parquet but its content is csv"),
        ("orders.xlsx", b"PAR1" + b"\x00" * 20, "named .xlsx but its content is parquet"),
    ],
)
def test_upload_type_is_checked_by_extension_and_content(staff_client, media_root, name, content, message):
    response = staff_client.post(
        reverse("staff:data_import"), {"file": SimpleUploadedFile(name, content), "layout": "auto"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Job.objects.exists()


def test_upload_is_saved_and_imported_by_a_job(staff_client, media_root, eager_celery):
    upload = SimpleUploadedFile("december orders.csv", CANONICAL_CSV.encode(), content_type="text/csv")

    response = staff_client.post(
        reverse("staff:data_import"), {"file": upload, "layout": "canonical", "skip_invalid": "on"}
    )

    job = Job.objects.get(kind=Job.Kind.IMPORT)
    assert response["Location"] == reverse("staff:job_detail", args=[job.pk])
    path = Path(job.params["path"])
    assert path.parent == media_root / "imports"
    assert job.params["file_format"] == "canonical"
    assert job.params["skip_invalid"] is True
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["rows_imported"] == len(CANONICAL_CSV.strip().splitlines()) - 1
    # the upload holds customers' data: it is deleted once imported
    assert not path.exists()
    html = staff_client.get(reverse("staff:job_detail", args=[job.pk])).content.decode()
    assert "Validation report" in html
    assert "<dt>Rows imported</dt><dd>2</dd>" in html and "rows_imported" not in html


def test_a_bad_file_shows_its_row_errors_on_the_job_page(staff_client, media_root, eager_celery):
    bad = CANONICAL_CSV + "W2,WEB-C2,WEB-P1,Red mug,Kitchen/Mugs,lots,3.50,2011-12-02T10:00:00,France\n"
    upload = SimpleUploadedFile("bad.csv", bad.encode(), content_type="text/csv")

    staff_client.post(reverse("staff:data_import"), {"file": upload, "layout": "auto"})

    job = Job.objects.get(kind=Job.Kind.IMPORT)
    assert job.status == Job.Status.FAILED
    html = staff_client.get(reverse("staff:job_detail", args=[job.pk])).content.decode()
    assert "quantity" in html
    assert "line 4" in html


def test_the_job_page_counts_bad_rows_as_the_import_of_the_valid_rows_would(
    staff_client, media_root, eager_celery
):
    """One row with two errors read "2 bad rows"; imported with the valid rows only, "1 rejected"."""
    bad = CANONICAL_CSV + "W2,WEB-C2,WEB-P1,Red mug,Kitchen/Mugs,lots,a lot,2011-12-02T10:00:00,France\n"
    for skip_invalid in ({}, {"skip_invalid": "on"}):
        upload = SimpleUploadedFile("bad.csv", bad.encode(), content_type="text/csv")
        staff_client.post(reverse("staff:data_import"), {"file": upload, "layout": "auto", **skip_invalid})

    failed, partly = Job.objects.filter(kind=Job.Kind.IMPORT).order_by("pk")
    assert failed.message == "1 bad row" and partly.message == "2 rows imported, 1 rejected"
    html = staff_client.get(reverse("staff:job_detail", args=[failed.pk])).content.decode()
    assert "bad.csv: 1 bad row; nothing was imported." in html

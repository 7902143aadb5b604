import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.models import Job
from recommender.models import ModelVersion
from tests.factories import JobFactory, RecommendationFactory

CANONICAL_CSV = (
    "order_id,customer_id,product_id,product_name,category,quantity,unit_price,ordered_at,country\n"
    "W1,WEB-C1,WEB-P1,Red mug,Kitchen/Mugs,2,3.50,2011-12-01T10:00:00,United Kingdom\n"
    "W1,WEB-C1,WEB-P2,Blue mug,Kitchen/Mugs,1,3.50,2011-12-01T10:00:00,United Kingdom\n"
)


def test_model_page_shows_metrics_against_baselines(staff_client, shop_data):
    response = staff_client.get(reverse("staff:model_list"))
    html = response.content.decode()
    labels = [row["label"] for row in response.context["quality"]["rows"]]
    assert labels == ["MLP ranker", "Personal top-frequency", "Popular", "Item kNN", "ALS"]
    assert [column["key"] for column in response.context["quality"]["columns"]][:2] == [
        "ndcg@10",
        "recall@10",
    ]
    assert '<td class="num best">0.3760</td>' in html
    assert 'id="train-now"' in html
    assert '<div id="ndcg-chart"><svg' in html


def test_roll_back_to_a_retired_version(staff_client, shop_data):
    old = shop_data["old_version"]
    old.scored_at = timezone.now()
    old.save()
    RecommendationFactory(model_version=old, customer=shop_data["customers"][0], rank=1)

    response = staff_client.post(reverse("staff:model_activate", args=[old.pk]))

    assert response["Location"] == reverse("staff:model_list")
    old.refresh_from_db()
    shop_data["version"].refresh_from_db()
    assert old.status == ModelVersion.Status.ACTIVE
    assert shop_data["version"].status == ModelVersion.Status.RETIRED


def test_a_version_that_cannot_be_served_is_refused_with_the_reason(staff_client, shop_data):
    old = shop_data["old_version"]  # never scored
    response = staff_client.post(reverse("staff:model_activate", args=[old.pk]), follow=True)
    assert "cannot be activated" in response.content.decode()
    old.refresh_from_db()
    assert old.status == ModelVersion.Status.RETIRED


def test_train_now_queues_a_training_job(staff_client, staff_user, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(reverse("staff:model_train"))
    job = Job.objects.get(kind=Job.Kind.TRAIN)
    assert response["Location"] == reverse("staff:job_detail", args=[job.pk])
    assert ModelVersion.objects.get(job=job).status == ModelVersion.Status.QUEUED
    assert job.created_by == staff_user
    assert len(callbacks) == 1


def test_job_json_reports_progress(staff_client, db):
    job = JobFactory(kind=Job.Kind.TRAIN, status=Job.Status.RUNNING, progress=0.42, message="Epoch 3 of 8")
    data = json.loads(staff_client.get(reverse("staff:job_status_json", args=[job.pk])).content)
    assert data["progress"] == 0.42
    assert data["status"] == "running"
    assert data["message"] == "Epoch 3 of 8"
    assert data["is_finished"] is False
    assert staff_client.get(reverse("staff:job_status_json", args=[job.pk + 1000])).status_code == 404


def test_job_page_polls_an_unfinished_job_and_shows_errors(staff_client, db):
    running = JobFactory(status=Job.Status.RUNNING, progress=0.5)
    failed = JobFactory(status=Job.Status.FAILED, error="line 3, column quantity: not a number")
    html = staff_client.get(reverse("staff:job_detail", args=[running.pk])).content.decode()
    assert f'data-job-url="/staff/jobs/{running.pk}.json"' in html
    assert 'data-job-status="running"' in html
    assert 'style="width: 50%"' in html
    failed_html = staff_client.get(reverse("staff:job_detail", args=[failed.pk])).content.decode()
    assert "line 3, column quantity: not a number" in failed_html
    assert "js/jobs.js" in failed_html


def test_jobs_list_filters_by_kind(staff_client, db):
    JobFactory(kind=Job.Kind.IMPORT)
    JobFactory(kind=Job.Kind.TRAIN)
    response = staff_client.get(reverse("staff:job_list") + "?kind=train")
    assert [job.kind for job in response.context["jobs"]] == ["train"]


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
    assert "rows_imported" in html


def test_a_bad_file_shows_its_row_errors_on_the_job_page(staff_client, media_root, eager_celery):
    bad = CANONICAL_CSV + "W2,WEB-C2,WEB-P1,Red mug,Kitchen/Mugs,lots,3.50,2011-12-02T10:00:00,France\n"
    upload = SimpleUploadedFile("bad.csv", bad.encode(), content_type="text/csv")

    staff_client.post(reverse("staff:data_import"), {"file": upload, "layout": "auto"})

    job = Job.objects.get(kind=Job.Kind.IMPORT)
    assert job.status == Job.Status.FAILED
    html = staff_client.get(reverse("staff:job_detail", args=[job.pk])).content.decode()
    assert "quantity" in html
    assert "line 4" in html

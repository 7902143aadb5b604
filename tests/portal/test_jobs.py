"""The jobs room: the list with its filter, a job's page and its progress as JSON."""

import json

from django.urls import reverse

from core.models import Job
from tests.factories import JobFactory


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


def test_forecast_jobs_have_their_own_kind_in_the_list_and_its_filter(staff_client, db):
    forecast = JobFactory(kind=Job.Kind.FORECAST)
    JobFactory(kind=Job.Kind.OTHER)

    response = staff_client.get(reverse("staff:job_list") + "?kind=forecast")

    assert [job.pk for job in response.context["jobs"]] == [forecast.pk]
    html = response.content.decode()
    assert '<option value="forecast" selected>Forecast demand</option>' in html
    assert f"Forecast demand #{forecast.pk}" in html


def test_an_import_job_never_shows_where_its_upload_lies_on_the_server(staff_client, db):
    """Every staff role reads jobs; the page and the API showed the upload's absolute path."""
    job = JobFactory(
        kind=Job.Kind.IMPORT,
        params={
            "path": "/srv/retail/var/media/imports/628f1319ff20-orders.csv",
            "rejects_path": "/srv/retail/var/rejects.csv",
            "original_name": "orders.csv",
            "skip_invalid": False,
        },
        result={"source": "orders.csv", "orders": {"created": 8, "updated": 0}, "errors": []},
    )
    html = staff_client.get(reverse("staff:job_detail", args=[job.pk])).content.decode()
    api = staff_client.get(f"/api/jobs/{job.pk}/").json()

    assert "/srv/retail" not in html and "orders.csv" in html
    assert "created 8, updated 0" in html and "{&#x27;created" not in html  # read as a person reads it
    assert api["params"] == {"original_name": "orders.csv", "skip_invalid": False}
    job.refresh_from_db()
    assert job.params["path"].endswith("orders.csv")  # the worker still reads it

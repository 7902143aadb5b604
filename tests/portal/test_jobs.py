"""The jobs room: the list with its filter, a job's page and its progress as JSON."""

import json
import re

import pytest
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


# What each kind of job records, as its task writes it (crm.tasks, recommender.tasks, inventory.tasks).
JOBS_OF_EVERY_KIND = {
    Job.Kind.IMPORT: (
        {
            "path": "/srv/retail/var/media/imports/628f-orders.csv",
            "file_format": "auto",
            "file_type": "csv",
            "skip_invalid": False,
            "original_name": "orders.csv",
        },
        {
            "source": "orders.csv",
            "layout": "uci",
            "rows_read": 12,
            "rows_imported": 11,
            "rows_skipped": 0,
            "rows_rejected": 1,
            "customers": {"created": 4, "updated": 0, "unchanged": 0, "deleted": 0},
            "order_lines": {"created": 11, "updated": 0, "unchanged": 0, "deleted": 0},
            "guest_orders": 1,
            "return_orders": 1,
            "non_product_lines": 2,
            "erased_customers": 0,
            "consent_changes": 0,
            "errors": [{"line": 8, "column": "InvoiceDate", "message": "not an ISO 8601 date and time"}],
            "rejects_path": "",
            "seconds": 0.38,
        },
    ),
    Job.Kind.SEGMENTS: (
        {"as_of": None},
        {
            "segment_run_id": 3,
            "as_of": "2011-12-10",
            "customers": 4338,
            "group_counts": {"champions": 800, "at_risk": 500, "potential_loyalists": 120},
            "parameters": {
                "unit_days": 1,
                "bgnbd": {"r": 0.8256603261414148, "alpha": 9.968, "a": 0.008664, "b": 0.4412},
                "bgnbd_priors": "flat",
                "gamma_gamma": {"p": 3.1, "q": 4.2, "v": 21.5},
                "spend_model": "gamma-gamma",
                "population_mean_spend": 21.04,
                "clv_margin_rate": 0.3,
                "seasonal_correction": {
                    "factors": {"90": 1.1021, "365": 1.0},
                    "backtest_cutoff": "2010-12-10",
                    "reason": "backtest of 2,000 customers from 2010-12-10",
                },
                "seconds": 2.51,
            },
        },
    ),
    Job.Kind.TARGETS: (
        {"promotion_id": 7},
        {"promotion_id": 7, "model_version_id": None, "target": 90, "control": 10},
    ),
    Job.Kind.TRAIN: (
        {"activate": True, "force": False, "config": {}, "model_version_id": 12},
        {"model_version_id": 12, "served": True, "chunks": 4, "workers": ["celery@a"], "worker_pid": 4242},
    ),
    Job.Kind.SCORE: (
        {"rescore_of": 12},
        {"model_version_id": 13, "served": False, "verdict": "NDCG@10 below the served version's"},
    ),
    Job.Kind.SCORE_CHUNK: (
        {
            "model_version_id": 13,
            "activate": True,
            "progress_start": 0.0,
            "index": 2,
            "low": 200,
            "high": 300,
        },
        {"rows": 1000, "worker": "celery@a", "pid": 4242},
    ),
    Job.Kind.SCORE_FINISH: (
        {
            "model_version_id": 13,
            "activate": True,
            "progress_start": 0.0,
            "chunks": 4,
            "customers": 400,
            "t0": 1.7e9,
        },
        {"model_version_id": 13, "served": True, "chunks": 4, "workers": ["celery@a"]},
    ),
    Job.Kind.FORECAST: (
        {"as_of": None, "horizon_days": None},
        {
            "forecast_run_id": 5,
            "as_of": "2011-12-10",
            "horizon_days": 28,
            "products": 3,
            "model_counts": {"croston": 1, "ses": 2},
            "seconds": 1.5,
        },
    ),
    Job.Kind.RETENTION: (
        {},
        {
            "behaviour_events": 10,
            "import_uploads": 2,
            "recommender_version_files": 1,
            "recommender_orphan_folders": 0,
        },
    ),
}


@pytest.mark.parametrize("kind", list(JOBS_OF_EVERY_KIND))
def test_a_job_page_names_what_it_shows_in_words(staff_client, db, kind):
    """The pages printed the keys of the job's record: rows_read, skip_invalid, rejects_path –,
    seconds 0.38, and a segments run's "bgnbd r 0.8257, alpha 9.968"."""
    params, result = JOBS_OF_EVERY_KIND[kind]
    job = JobFactory(kind=kind, status=Job.Status.SUCCEEDED, params=params, result=result)

    html = staff_client.get(reverse("staff:job_detail", args=[job.pk])).content.decode()

    facts = " ".join(re.findall(r"<d[td]>(.*?)</d[td]>", html, flags=re.S))
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", facts), facts
    assert "/srv/" not in html and "worker_pid" not in html and "4242" not in facts


def test_a_job_page_labels_its_figures_and_their_units(staff_client, db):
    pages = {}
    for kind, (params, result) in JOBS_OF_EVERY_KIND.items():
        job = JobFactory(kind=kind, status=Job.Status.SUCCEEDED, params=params, result=result)
        pages[kind] = staff_client.get(reverse("staff:job_detail", args=[job.pk])).content.decode()

    imported = pages[Job.Kind.IMPORT]
    for fact in (
        "<dt>Rows read</dt><dd>12</dd>",
        "<dt>Non-product lines</dt><dd>2</dd>",
        "<dt>Import the valid rows even if some rows are invalid</dt><dd>no</dd>",
        "<dt>Column layout</dt><dd>Detect</dd>",
        "<dt>Time taken</dt><dd>0.38 s</dd>",
    ):
        assert fact in imported
    assert "Rejected rows" not in imported  # a file on the server, of no use to the reader
    segments = pages[Job.Kind.SEGMENTS]
    assert "<dt>BG/NBD</dt><dd>r 0.8257, α 9.968, a 0.008664, b 0.4412</dd>" in segments
    assert segments.index("Seasonal correction") < segments.index("Time taken")  # its time last
    assert (
        "Champions 800, Potential loyalists 120, At risk 500" in segments
    )  # as the segments page lists them
    assert "<dt>Time unit</dt><dd>1 day</dd>" in segments
    assert segments.index("Seasonal correction") < segments.index("Time taken")  # its time last
    assert "<dt>Horizon</dt><dd>28 days</dd>" in pages[Job.Kind.FORECAST]
    assert "Exponential smoothing 2" in pages[Job.Kind.FORECAST]
    assert "<dt>Rescoring of</dt><dd>v12</dd>" in pages[Job.Kind.SCORE]


def test_a_key_no_page_knows_reads_as_words(staff_client, db):
    job = JobFactory(kind=Job.Kind.OTHER, status=Job.Status.SUCCEEDED, result={"files_checked": 3})

    html = staff_client.get(reverse("staff:job_detail", args=[job.pk])).content.decode()

    assert "<dt>Files checked</dt><dd>3</dd>" in html

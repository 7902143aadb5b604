"""What operations need of the site: probes, metrics, JSON logs, a read replica."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from core.models import Job
from crm.models import Customer
from recommender.models import ModelVersion
from retail_site.celery import app as celery_app
from tests.factories import CustomerFactory, JobFactory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_healthz_answers_without_touching_anything(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_each_dependency_and_that_no_model_is_served_yet(client):
    response = client.get(reverse("readyz"))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "broker",
        "cache",
        "model",
    }
    assert body["checks"]["model"]["served_version"] is None
    assert "none yet" in body["checks"]["model"]["detail"]


@pytest.mark.django_db
def test_readyz_names_the_served_version(client):
    version = ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE)
    assert client.get(reverse("readyz")).json()["checks"]["model"]["served_version"] == version.pk


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_does_not_answer(client, monkeypatch):
    # given a broker address where nothing listens (Celery reads the variable before its own setting)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    configured = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get(reverse("readyz"))
    finally:
        celery_app.conf.broker_url = configured

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_metrics_show_jobs_and_the_served_version_to_this_machine_only(client):
    JobFactory(kind=Job.Kind.IMPORT, status=Job.Status.RUNNING, progress=0.25)
    JobFactory(kind=Job.Kind.TRAIN, status=Job.Status.FAILED)
    version = ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE)

    response = client.get(reverse("metrics"))  # the test client comes from 127.0.0.1

    assert response.status_code == 200
    text = response.content.decode()
    assert 'retail_jobs{kind="import",status="running"} 1.0' in text
    assert 'retail_jobs{kind="train",status="failed"} 1.0' in text
    assert f"retail_served_model_version {float(version.pk)}" in text
    assert 'kind="import"} 0.25' in text  # the running job's progress
    assert "django_http_requests_total_by_method_total" in text  # django-prometheus's own

    # from elsewhere it does not exist, unless the scraper brings the token
    assert client.get(reverse("metrics"), REMOTE_ADDR="203.0.113.9").status_code == 404
    with override_settings(METRICS_TOKEN="s3cret-token"):
        assert client.get(reverse("metrics"), REMOTE_ADDR="203.0.113.9").status_code == 404
        authorised = client.get(
            reverse("metrics"), REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token"
        )
        assert authorised.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {"HTTP_X_REAL_IP": "203.0.113.9"},
        {"HTTP_FORWARDED": "for=203.0.113.9"},
    ],
)
def test_metrics_passed_on_by_a_proxy_on_this_machine_need_the_token(client, header):
    """Behind nginx on the same host every request comes from 127.0.0.1: the metrics were public."""
    assert client.get(reverse("metrics"), **header).status_code == 404
    with override_settings(METRICS_TOKEN="s3cret-token"):
        authorised = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer s3cret-token", **header)
        assert authorised.status_code == 200


def test_json_logs_when_asked():
    code = (
        "import logging, django; django.setup(); logging.getLogger('crm.test').warning('hello %s', 'there')"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "retail_site.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello there"
    assert line["level"] == "WARNING" and line["logger"] == "crm.test" and line["pid"] > 0


@pytest.mark.skipif("replica" not in settings.DATABASES, reason="needs PostgreSQL (a second database)")
@pytest.mark.django_db(databases=["default", "replica"], transaction=True)
def test_reads_go_to_the_replica_until_a_write_pins_the_primary():
    from retail_site.db_router import unpin

    # given a customer only on the primary (the replica has not caught up)
    CustomerFactory(external_id="on-primary")
    with override_settings(DATABASE_ROUTERS=["retail_site.db_router.PrimaryReplicaRouter"]):
        unpin()
        # a fresh request or task reads from the replica
        assert not Customer.objects.filter(external_id="on-primary").exists()
        # inside a transaction, reads stay on the primary
        from django.db import transaction

        with transaction.atomic():
            assert Customer.objects.filter(external_id="on-primary").exists()
        # after a write, the rest of the request reads its own writes from the primary
        Customer.objects.create(external_id="written-now")
        assert Customer.objects.filter(external_id__in=["on-primary", "written-now"]).count() == 2
        unpin()
        assert not Customer.objects.filter(external_id="written-now").exists()


@pytest.mark.skipif("replica" not in settings.DATABASES, reason="needs PostgreSQL (a second database)")
@pytest.mark.django_db(databases=["default", "replica"], transaction=True)
def test_each_request_starts_on_the_replica(client):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-ops-123456")
    CustomerFactory(external_id="primary-only")
    middleware = ["retail_site.db_router.PrimaryAfterWriteMiddleware", *settings.MIDDLEWARE]
    with override_settings(
        DATABASE_ROUTERS=["retail_site.db_router.PrimaryReplicaRouter"], MIDDLEWARE=middleware
    ):
        # the readiness probe reads the served version from the replica, where the tables are empty
        response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert connection.settings_dict["NAME"] != settings.DATABASES["replica"]["NAME"]


def test_env_example_lists_every_variable_the_settings_read():
    import re
    from pathlib import Path

    settings_source = "\n".join(
        path.read_text() for path in Path(ROOT, "retail_site", "settings").glob("*.py")
    )
    read = set(re.findall(r'env(?:\.[a-z]+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))
    listed = set(re.findall(r"^# ?([A-Z][A-Z0-9_]+)=", Path(ROOT, ".env.example").read_text(), re.M))
    assert read and read <= listed, f"not in .env.example: {sorted(read - listed)}"

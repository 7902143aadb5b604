"""Data migrations of core's Job rows, run on a database that holds rows of the version before."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)


def migrate_to(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def test_forecast_jobs_recorded_as_other_get_the_forecast_kind():
    old_apps = migrate_to(("core", "0004_job_delivery_guard"))
    OldJob = old_apps.get_model("core", "Job")
    forecast = OldJob.objects.create(kind="other", params={"task": "forecast", "as_of": None})
    other = OldJob.objects.create(kind="other", params={})
    try:
        new_apps = migrate_to(("core", "0005_job_kind_forecast"))
    finally:
        latest = MigrationExecutor(connection).loader.graph.leaf_nodes("core")[0]
        migrate_to(latest)
    Job = new_apps.get_model("core", "Job")
    assert Job.objects.get(pk=forecast.pk).kind == "forecast"
    assert Job.objects.get(pk=other.pk).kind == "other"

"""Retention (old events, finished uploads, old model versions' files) and the audit trail."""

import datetime as dt
import io
import os

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from core.jobs import job_create
from core.models import Job
from crm.models import AuditEvent, BehaviourEvent
from crm.selectors.privacy import audit_event_list, audit_events_csv
from crm.services.privacy import audit_record
from crm.tasks.privacy import scheduled_retention_task
from recommender.models import ModelVersion, Recommendation
from recommender.services.activation import model_version_activate
from tests.factories import BehaviourEventFactory, RecommendationFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def test_the_nightly_retention_is_scheduled():
    entry = django_settings.CELERY_BEAT_SCHEDULE["nightly-retention"]
    assert entry["task"] == "crm.tasks.privacy.scheduled_retention_task"
    assert scheduled_retention_task.name == entry["task"]


def test_retention_deletes_old_events_and_finished_uploads_and_keeps_the_rest(
    eager_celery, settings, tmp_path
):
    settings.BEHAVIOUR_EVENT_RETENTION_DAYS = 30
    settings.MEDIA_ROOT = tmp_path
    settings.MODEL_ARTIFACT_ROOT = tmp_path / "models"
    now = timezone.now()
    old = BehaviourEventFactory(at=now - dt.timedelta(days=31))
    recent = BehaviourEventFactory(at=now - dt.timedelta(days=29))
    uploads = tmp_path / "imports"
    uploads.mkdir()
    finished, running, orphan = uploads / "a.csv", uploads / "b.csv", uploads / "c.csv"
    for file in (finished, running, orphan):
        file.write_text("order_id\n1\n")
    two_days_ago = (now - dt.timedelta(days=2)).timestamp()
    os.utime(orphan, (two_days_ago, two_days_ago))
    job_create(kind=Job.Kind.IMPORT, params={"path": str(finished)})
    Job.objects.filter(params__path=str(finished)).update(status=Job.Status.SUCCEEDED)
    job_create(kind=Job.Kind.IMPORT, params={"path": str(running)})

    scheduled_retention_task.delay()

    assert list(BehaviourEvent.objects.all()) == [recent]
    assert not BehaviourEvent.objects.filter(pk=old.pk).exists()
    assert not finished.exists() and not orphan.exists() and running.exists()
    job = Job.objects.get(kind=Job.Kind.RETENTION)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["behaviour_events"] == 1 and job.result["import_uploads"] == 2


def test_old_model_versions_files_go_with_their_rows(settings, tmp_path):
    settings.MODEL_ARTIFACT_ROOT = tmp_path
    versions = []
    for number in range(4):
        folder = tmp_path / f"v{number}"
        folder.mkdir()
        (folder / "history.pkl").write_bytes(b"statistics")
        version = ModelVersion.objects.create(
            status="ready", artifact_path=str(folder), scored_at=timezone.now() + dt.timedelta(minutes=number)
        )
        RecommendationFactory(model_version=version)
        versions.append(version)

    # activating the newest retires the rest; beyond the kept few, rows and files go together
    model_version_activate(model_version=versions[-1])

    oldest = ModelVersion.objects.get(pk=versions[0].pk)
    assert not Recommendation.objects.filter(model_version=oldest).exists()
    assert oldest.artifact_path == "" and not (tmp_path / "v0").exists()
    assert (tmp_path / "v3").exists() and (tmp_path / "v2").exists()


def test_activating_a_model_version_is_audited(settings, tmp_path):
    settings.MODEL_ARTIFACT_ROOT = tmp_path
    version = ModelVersion.objects.create(status="ready", scored_at=timezone.now())
    RecommendationFactory(model_version=version)
    staff = StaffUserFactory(username="ops")

    model_version_activate(model_version=version, actor=staff, via="portal")

    event = AuditEvent.objects.get(action="model_version_activated")
    assert (event.actor, event.actor_name, event.subject) == (staff, "ops", f"model version {version.pk}")
    out = io.StringIO()
    call_command("activate_model", str(version.pk), stdout=out)  # already served: no second entry
    assert AuditEvent.objects.filter(action="model_version_activated").count() == 1
    assert out.getvalue() == f"Model version {version.pk} is already served.\n"


def test_the_audit_trail_filters_by_actor_action_and_day_and_exports_safe_csv():
    alice, bob = StaffUserFactory(username="alice"), StaffUserFactory(username="=bob")
    audit_record(action="data_export_opened", actor=alice, subject="p_1", via="api")
    audit_record(action="personal_data_exported", actor=bob, subject="targets of promotion 1", via="api")
    earlier = audit_record(action="customer_erased", actor=alice, subject="p_2", via="api")
    AuditEvent.objects.filter(pk=earlier.pk).update(at=timezone.now() - dt.timedelta(days=3))
    today = timezone.localdate()

    assert [event.subject for event in audit_event_list(actor="alice")] == ["p_1", "p_2"]
    assert [event.subject for event in audit_event_list(action="customer_erased")] == ["p_2"]
    assert {event.subject for event in audit_event_list(since=today)} == {"p_1", "targets of promotion 1"}
    assert [event.subject for event in audit_event_list(until=today - dt.timedelta(days=1))] == ["p_2"]
    out = io.StringIO()
    assert audit_events_csv(events=audit_event_list(actor="=bob"), out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "at,actor,action,subject,via,detail"
    assert ",'=bob,personal_data_exported,targets of promotion 1,api," in lines[1]
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record(action="peeked")

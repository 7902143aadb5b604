"""The audit trail names no customer in clear: not a shopper as the actor, not the search text of an
export, and an erasure blanks what entries written before these rules held."""

from django.urls import reverse

from core.models import Job
from crm.models import AuditEvent
from crm.services.audit import customer_subject
from crm.services.privacy import customer_erase
from tests.factories import CustomerFactory, JobFactory


def test_a_shoppers_download_names_them_by_their_keyed_hash(shopper, shopper_client):
    assert shopper_client.get(reverse("shop:my_data_download")).status_code == 200

    entry = AuditEvent.objects.get(action=AuditEvent.Action.DATA_EXPORT_OPENED)
    assert entry.actor_name == customer_subject(shopper) == entry.subject
    assert "shopper" not in entry.actor_name


def test_a_customers_export_records_its_filters_but_not_the_search_text(staff_client, db):
    CustomerFactory(external_id="17850", email="customer17850@example.com", country="France")

    response = staff_client.get(
        reverse("staff:customer_list_csv"), {"q": "customer17850@example.com", "country": "France"}
    )

    assert response.status_code == 200
    entry = AuditEvent.objects.get(action=AuditEvent.Action.PERSONAL_DATA_EXPORTED)
    assert entry.detail == {"file": "customers.csv", "filters": "country=France", "searched": True}


def test_erasure_blanks_the_customer_out_of_entries_and_jobs_written_before(shopper, staff_user):
    shopper.external_id, shopper.email = "17850", "customer17850@example.com"
    shopper.save()
    old_download = AuditEvent.objects.create(
        at=shopper.created_at, actor=shopper.user, actor_name="shopper", action="data_export_opened"
    )
    old_export = AuditEvent.objects.create(
        at=shopper.created_at,
        actor_name="staff",
        action="personal_data_exported",
        detail={"file": "customers.csv", "filters": "q=customer17850%40example.com"},
    )
    someone_else = AuditEvent.objects.create(
        at=shopper.created_at, actor_name="shopper-2", action="customer_viewed"
    )
    job = JobFactory(error="unknown layout with columns 17850, customer17850@example.com, 85123A")

    outcome = customer_erase(customer=shopper, erased_by=staff_user, via="portal")

    subject = outcome.record.subject_hash
    old_download.refresh_from_db()
    old_export.refresh_from_db()
    someone_else.refresh_from_db()
    assert old_download.actor_name == subject
    assert "17850" not in str(old_export.detail) and "example.com" not in str(old_export.detail)
    assert someone_else.actor_name == "shopper-2"
    assert outcome.record.counts["audit_entries_scrubbed"] == 2
    error = Job.objects.get(pk=job.pk).error
    assert "17850" not in error and "example.com" not in error  # the e-mail blanked whole, not around the id

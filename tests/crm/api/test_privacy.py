"""Customers' data rights over the API: erase (staff only), data export (staff, or the shopper's own)."""

import pytest

from crm.models import AuditEvent, BehaviourEvent, Customer, ErasureRecord, Order
from crm.pseudonyms import pseudonymize
from tests.factories import BehaviourEventFactory, CustomerFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_with_history():
    customer = CustomerFactory(external_id="C-ERASE", name="Ada Byron", email="ada@example.test")
    order = OrderFactory(customer=customer, external_id="O-ERASE")
    OrderLineFactory(order=order, quantity=3)
    BehaviourEventFactory(customer=customer)
    return customer


def test_staff_erase_a_customer_through_the_api(staff_client, customer_with_history, staff_user):
    response = staff_client.post("/api/customers/C-ERASE/erase/")

    assert response.status_code == 200
    body = response.json()
    assert body["erased"] is True and body["already_erased"] is False
    assert body["subject"] == pseudonymize("C-ERASE") and body["counts"]["orders_kept"] == 1
    assert not Customer.objects.filter(external_id="C-ERASE").exists()
    assert Order.objects.get(external_id="O-ERASE").customer.anonymous
    assert BehaviourEvent.objects.count() == 0
    record = ErasureRecord.objects.get()
    assert record.erased_by == staff_user and record.erased_by_name == "staff"
    audit = AuditEvent.objects.get(action="customer_erased")
    assert audit.actor == staff_user and audit.via == "api" and audit.subject == record.subject_hash


def test_only_staff_may_erase_and_unknown_ids_are_404(
    shopper_client, staff_client, anonymous_client, customer_with_history, shopper
):
    assert anonymous_client.post("/api/customers/C-ERASE/erase/").status_code in (401, 403)
    # a shopper cannot erase anyone, not even themselves, through the staff endpoint
    assert shopper_client.post(f"/api/customers/{shopper.external_id}/erase/").status_code == 403
    assert staff_client.post("/api/customers/NOBODY/erase/").status_code == 404
    assert Customer.objects.filter(external_id="C-ERASE").exists()
    assert ErasureRecord.objects.count() == 0


def test_staff_download_a_customers_data_and_the_opening_is_audited(
    staff_client, customer_with_history, staff_user
):
    response = staff_client.get("/api/customers/C-ERASE/data-export/")

    assert response.status_code == 200
    document = response.json()
    assert document["profile"]["email"] == "ada@example.test"
    assert [order["order_id"] for order in document["orders"]] == ["O-ERASE"]
    assert document["orders"][0]["lines"][0]["quantity"] == 3
    assert len(document["behaviour_events"]) == 1
    assert set(document["consent"]["current"]) == {"email", "sms", "push", "post"}
    assert "recommendations" in document
    audit = AuditEvent.objects.get(action="data_export_opened")
    assert audit.actor == staff_user and audit.subject == pseudonymize("C-ERASE")


def test_a_shopper_downloads_only_their_own_data_through_the_api(
    shopper_client, shopper, customer_with_history
):
    assert shopper_client.get(f"/api/customers/{shopper.external_id}/data-export/").status_code == 200
    assert shopper_client.get("/api/customers/C-ERASE/data-export/").status_code == 404


def test_staff_reads_of_personal_data_are_audited_without_the_search_or_the_id(staff_client, staff_user):
    CustomerFactory(external_id="C-READ", name="Rita Reader")

    assert staff_client.get("/api/customers/?search=Rita").status_code == 200
    assert staff_client.get("/api/customers/C-READ/").status_code == 200
    assert staff_client.get("/api/orders/").status_code == 200
    assert staff_client.get("/api/customers/NOBODY/").status_code == 404

    events = list(AuditEvent.objects.order_by("pk").values_list("actor", "action", "subject", "detail"))
    assert events == [
        (staff_user.pk, "personal_data_exported", "customers", {"page": "1"}),
        (staff_user.pk, "personal_data_exported", pseudonymize("C-READ"), {"page": "1"}),
        (staff_user.pk, "personal_data_exported", "orders", {"page": "1"}),
    ]

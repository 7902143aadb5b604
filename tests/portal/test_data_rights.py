"""Customers' data rights in the portal: the data admin downloads a customer's data and erases a customer
from the customer 360 page; customer lists are exported with pseudonyms instead of ids on request, which
is the only export an analyst may take."""

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from core.roles import ANALYST, DATA_ADMIN, MARKETING
from crm.models import AuditEvent, BehaviourEvent, Customer, ErasureRecord, Order
from crm.pseudonyms import pseudonymize
from crm.services.privacy import customer_subject
from tests.factories import (
    BehaviourEventFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    StaffUserFactory,
    UserFactory,
)
from tests.shop_data import build_shop_data

pytestmark = pytest.mark.django_db


def _client(username: str, role: str) -> tuple[Client, object]:
    user = StaffUserFactory(username=username, roles=[role])
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def customer():
    customer = CustomerFactory(
        external_id="C-RIGHTS", name="Grace Hopper", email="grace@example.test", user=UserFactory()
    )
    order = OrderFactory(customer=customer, external_id="O-RIGHTS")
    OrderLineFactory(order=order, quantity=2)
    BehaviourEventFactory(customer=customer)
    return customer


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- The customer 360 page's data-rights actions ----------------------------------------------


def test_the_data_admin_sees_the_data_rights_actions_and_marketing_does_not(customer):
    admin, _ = _client("admin-1", DATA_ADMIN)
    marketer, _ = _client("marketer-1", MARKETING)
    url = reverse("staff:customer_detail", args=[customer.pk])

    for_admin = admin.get(url).content.decode()
    for_marketing = marketer.get(url).content.decode()

    assert 'id="download-customer-data"' in for_admin and 'id="erase-customer"' in for_admin
    assert 'id="customer-data-rights"' not in for_marketing
    assert marketer.get(reverse("staff:customer_data_download", args=[customer.pk])).status_code == 403
    assert marketer.get(reverse("staff:customer_erasure", args=[customer.pk])).status_code == 403
    assert (
        marketer.post(
            reverse("staff:customer_erasure", args=[customer.pk]), {"confirm_id": "C-RIGHTS"}
        ).status_code
        == 403
    )
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_download_is_the_shoppers_own_document_and_is_audited(customer):
    admin, admin_user = _client("admin-2", DATA_ADMIN)
    shopper = Client()
    shopper.force_login(customer.user)

    response = admin.get(reverse("staff:customer_data_download", args=[customer.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}-data.json"'
    document = json.loads(response.content)
    own = json.loads(shopper.get(reverse("shop:my_data_download")).content)
    assert {**document, "exported_at": None} == {**own, "exported_at": None}
    assert document["profile"]["email"] == "grace@example.test"
    assert [order["order_id"] for order in document["orders"]] == ["O-RIGHTS"]
    opened = AuditEvent.objects.get(action=AuditEvent.Action.DATA_EXPORT_OPENED, actor=admin_user)
    assert opened.via == "portal" and opened.subject == customer_subject(customer)


def test_erasure_asks_for_the_customers_id_first(customer):
    admin, _ = _client("admin-3", DATA_ADMIN)
    url = reverse("staff:customer_erasure", args=[customer.pk])

    page = admin.get(url)
    wrong = admin.post(url, {"confirm_id": "C-SOMEONE-ELSE"})
    empty = admin.post(url, {})

    assert page.status_code == 200 and 'id="erase-form"' in page.content.decode()
    assert "C-RIGHTS" in page.content.decode()
    assert wrong.status_code == 400 and "not this customer" in wrong.content.decode()
    assert empty.status_code == 400
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert ErasureRecord.objects.count() == 0


def test_the_data_admin_erases_a_customer_from_the_portal(customer):
    admin, admin_user = _client("admin-4", DATA_ADMIN)

    response = admin.post(
        reverse("staff:customer_erasure", args=[customer.pk]), {"confirm_id": "C-RIGHTS"}, follow=True
    )

    assert response.redirect_chain == [(reverse("staff:customer_list"), 302)]
    assert any(message.startswith("Customer erased") for message in _messages(response))
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert Order.objects.get(external_id="O-RIGHTS").customer.anonymous
    assert BehaviourEvent.objects.count() == 0
    record = ErasureRecord.objects.get()
    assert record.subject_hash == pseudonymize("C-RIGHTS") and record.erased_by == admin_user
    erased = AuditEvent.objects.get(action=AuditEvent.Action.CUSTOMER_ERASED)
    assert erased.actor == admin_user and erased.via == "portal" and erased.subject == record.subject_hash
    assert (
        "Grace Hopper" not in response.content.decode()
        and "grace@example.test" not in response.content.decode()
    )


def test_the_erasure_message_counts_one_order_as_one_order(customer):
    """It read "1 orders kept anonymously, 1 events"."""
    admin, _ = _client("admin-6", DATA_ADMIN)

    response = admin.post(
        reverse("staff:customer_erasure", args=[customer.pk]), {"confirm_id": "C-RIGHTS"}, follow=True
    )

    (message,) = _messages(response)
    assert "1 order kept anonymously, 1 event" in message
    assert "1 orders" not in message and "1 events" not in message


def test_erasing_again_says_so_and_changes_nothing(customer):
    admin, _ = _client("admin-5", DATA_ADMIN)
    url = reverse("staff:customer_erasure", args=[customer.pk])
    admin.post(url, {"confirm_id": "C-RIGHTS"})

    again = admin.post(url, {"confirm_id": "C-RIGHTS"}, follow=True)

    assert again.redirect_chain == [(reverse("staff:customer_list"), 302)]
    assert any("already erased" in message for message in _messages(again))
    assert ErasureRecord.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CUSTOMER_ERASED).count() == 1
    assert admin.get(url).status_code == 404


def test_the_address_of_an_erased_customer_never_erases_someone_else(customer):
    admin, _ = _client("admin-6", DATA_ADMIN)
    other = CustomerFactory(external_id="C-OTHER")
    url = reverse("staff:customer_erasure", args=[customer.pk])
    admin.post(url, {"confirm_id": "C-RIGHTS"})

    response = admin.post(url, {"confirm_id": "C-OTHER"})

    assert response.status_code == 404
    assert Customer.objects.filter(pk=other.pk).exists()
    assert ErasureRecord.objects.count() == 1


def test_the_anonymous_record_of_erased_customers_cannot_be_erased_or_downloaded(customer):
    admin, _ = _client("admin-7", DATA_ADMIN)
    admin.post(reverse("staff:customer_erasure", args=[customer.pk]), {"confirm_id": "C-RIGHTS"})
    anonymous = Customer.objects.get(anonymous=True)

    page = admin.get(reverse("staff:customer_detail", args=[anonymous.pk])).content.decode()

    assert 'id="customer-data-rights"' not in page
    assert admin.get(reverse("staff:customer_data_download", args=[anonymous.pk])).status_code == 404
    assert admin.get(reverse("staff:customer_erasure", args=[anonymous.pk])).status_code == 404


# --- Pseudonymized exports ----------------------------------------------------------------------


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_an_analyst_exports_segments_by_pseudonym_only():
    data = build_shop_data(3)
    analyst, analyst_user = _client("analyst-1", ANALYST)

    plain = analyst.get(reverse("staff:segments_csv"))
    response = analyst.get(reverse("staff:segments_csv"), {"pseudonymize": "1"})

    assert plain.status_code == 403
    assert response.status_code == 200
    assert "pseudonymized" in response["Content-Disposition"]
    rows = _rows(response)
    customers = data["customers"]
    assert sorted(row["customer_id"] for row in rows) == sorted(
        pseudonymize(c.external_id) for c in customers
    )
    text = response.content.decode()
    for customer in customers:
        assert customer.external_id not in text and customer.name not in text and customer.email not in text
    exported = AuditEvent.objects.get(action=AuditEvent.Action.PERSONAL_DATA_EXPORTED, actor=analyst_user)
    assert exported.detail["pseudonymized"] is True and exported.detail["rows"] == len(customers)


def test_one_group_or_list_is_exported_by_pseudonym_too():
    data = build_shop_data(4)
    analyst, _ = _client("analyst-2", ANALYST)
    high_value = [
        c for c in data["customers"] if c.segments.filter(run=data["run"], high_value=True).exists()
    ]

    response = analyst.get(reverse("staff:segments_csv"), {"list": "high_value", "pseudonymize": "1"})

    assert response.status_code == 200
    assert {row["customer_id"] for row in _rows(response)} == {
        pseudonymize(c.external_id) for c in high_value
    }


def test_marketing_chooses_ids_or_pseudonyms_and_the_pseudonyms_are_stable():
    data = build_shop_data(2)
    marketer, _ = _client("marketer-2", MARKETING)

    by_id = _rows(marketer.get(reverse("staff:segments_csv")))
    by_pseudonym = _rows(marketer.get(reverse("staff:segments_csv"), {"pseudonymize": "1"}))
    again = _rows(marketer.get(reverse("staff:segments_csv"), {"pseudonymize": "1"}))

    assert {row["customer_id"] for row in by_id} == {c.external_id for c in data["customers"]}
    assert [pseudonymize(row["customer_id"]) for row in by_id] == [row["customer_id"] for row in by_pseudonym]
    assert by_pseudonym == again


def test_a_bad_pseudonymize_value_is_a_plain_400_naming_it():
    build_shop_data(1)
    marketer, _ = _client("marketer-3", MARKETING)

    response = marketer.get(reverse("staff:segments_csv"), {"pseudonymize": "<b>maybe</b>"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "pseudonymize" in response.content.decode() and "<b>" not in response.content.decode()


def test_promotion_targets_by_pseudonym_leave_the_email_out():
    data = build_shop_data(3)
    promotion = data["promotion"]
    analyst, _ = _client("analyst-3", ANALYST)
    marketer, _ = _client("marketer-4", MARKETING)
    url = reverse("staff:promotion_targets_csv", args=[promotion.pk])

    assert analyst.get(url).status_code == 403
    response = analyst.get(url, {"pseudonymize": "1"})
    with_ids = _rows(marketer.get(url))

    assert response.status_code == 200
    rows = _rows(response)
    assert list(rows[0]) == ["customer_id", "group", "rank", "score", "expected_value"]
    assert [row["customer_id"] for row in rows] == [pseudonymize(row["customer_id"]) for row in with_ids]
    text = response.content.decode()
    for customer in data["customers"]:
        assert customer.email not in text and customer.external_id not in text


def test_the_analyst_is_offered_only_the_pseudonymized_files():
    data = build_shop_data(2)
    analyst, _ = _client("analyst-4", ANALYST)
    marketer, _ = _client("marketer-5", MARKETING)

    segments = analyst.get(reverse("staff:segments")).content.decode()
    promotion = analyst.get(reverse("staff:promotion_detail", args=[data["promotion"].pk])).content.decode()
    marketing_segments = marketer.get(reverse("staff:segments")).content.decode()

    assert 'id="export-segments-pseudonymized"' in segments and 'id="export-segments"' not in segments
    assert 'id="download-targets-pseudonymized"' in promotion and 'id="download-targets"' not in promotion
    csv_links = [part.split('"')[0] for part in segments.split(f'href="{reverse("staff:segments_csv")}')[1:]]
    assert csv_links and all("pseudonymize=1" in link for link in csv_links)
    assert 'id="export-segments"' in marketing_segments
    assert 'id="export-segments-pseudonymized"' in marketing_segments


def test_the_analyst_reads_customers_on_the_pages_as_the_pseudonymized_files_name_them():
    """The pages named them "Customer #909", the database's row number, which matched no row of the
    pseudonymized files."""
    data = build_shop_data(3)
    promotion = data["promotion"]
    analyst, _ = _client("analyst-5", ANALYST)

    page = analyst.get(reverse("staff:promotion_detail", args=[promotion.pk])).content.decode()
    file_ids = [
        row["customer_id"]
        for row in _rows(
            analyst.get(reverse("staff:promotion_targets_csv", args=[promotion.pk]), {"pseudonymize": "1"})
        )
    ]
    assert file_ids and all(pseudonym in page for pseudonym in file_ids[:25])
    assert "Customer #" not in page
    segments = analyst.get(reverse("staff:segments")).content.decode()
    assert "Customer #" not in segments
    listed = [target.customer for target in promotion.targets.select_related("customer")]
    assert any(pseudonymize(customer.external_id) in segments for customer in data["customers"] + listed)
    for customer in data["customers"]:
        assert customer.external_id not in segments and customer.name not in segments

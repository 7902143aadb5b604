"""Consent per channel with its history, honoured by targeting and at the moment of every export."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.roles import DATA_ADMIN, MARKETING
from crm.models import ConsentEvent, Customer, ErasureRecord, Order, Promotion
from crm.services.importing import import_order_file
from crm.services.privacy import consent_set, customer_erase
from crm.services.promotions import promotion_compute_targets, promotion_create
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def _buyers(count: int, product, **consent) -> list[Customer]:
    customers = []
    for number in range(count):
        customer = CustomerFactory(external_id=f"B{number}", email=f"b{number}@example.test", **consent)
        order = OrderFactory(customer=customer, placed_at=timezone.now() - dt.timedelta(days=60))
        OrderLineFactory(order=order, product=product, unit_price=Decimal("5"))
        customers.append(customer)
    return customers


def _promotion(product, channel: str, audience: int) -> Promotion:
    return promotion_create(
        name="Mugs",
        product_ids=[product.pk],
        discount_percent=10,
        starts_on=TODAY,
        ends_on=TODAY + dt.timedelta(days=7),
        channel=channel,
        audience_size=audience,
        control_share=0.0,
    )


def test_a_change_of_consent_is_kept_with_when_where_from_and_why():
    customer = CustomerFactory(email_opt_in=False)
    staff = StaffUserFactory()

    granted = consent_set(customer=customer, channel="email", granted=True, source="staff", recorded_by=staff)
    again = consent_set(customer=customer, channel="email", granted=True, source="staff")
    withdrawn = consent_set(
        customer=customer, channel="email", granted=False, source="shop", lawful_basis="consent"
    )

    assert again is None
    customer.refresh_from_db()
    assert customer.email_opt_in is False and customer.consent_changed_at == withdrawn.at
    history = list(ConsentEvent.objects.filter(customer=customer).order_by("at", "pk"))
    assert [(event.granted, event.source, event.recorded_by) for event in history] == [
        (True, "staff", staff),
        (False, "shop", None),
    ]
    assert granted.lawful_basis == "consent"
    with pytest.raises(ValueError, match="Unknown channel 'fax'"):
        consent_set(customer=customer, channel="fax", granted=True, source="staff")


def test_targeting_takes_only_customers_who_consent_to_the_promotions_channel():
    product = ProductFactory(price=Decimal("5"))
    by_email = _buyers(3, product, email_opt_in=True)
    by_sms = CustomerFactory(external_id="SMS1", email_opt_in=False)
    consent_set(customer=by_sms, channel="sms", granted=True, source="staff")
    bought = OrderFactory(customer=by_sms, placed_at=timezone.now() - dt.timedelta(days=60))
    OrderLineFactory(order=bought, product=product)

    sms = promotion_compute_targets(promotion=_promotion(product, Promotion.Channel.SMS, 1))
    email = promotion_compute_targets(promotion=_promotion(product, Promotion.Channel.EMAIL, 3))

    assert list(sms.targets.values_list("customer", flat=True)) == [by_sms.pk]
    assert set(email.targets.values_list("customer", flat=True)) == {customer.pk for customer in by_email}


def test_a_customer_who_withdraws_after_targeting_is_not_in_the_mailing_file_nor_the_api(tmp_path, client):
    product = ProductFactory(price=Decimal("5"))
    buyers = _buyers(3, product, email_opt_in=True)
    promotion = promotion_compute_targets(promotion=_promotion(product, Promotion.Channel.EMAIL, 3))
    assert promotion.targets.count() == 3

    # when one of them opts out after the targets were computed
    consent_set(customer=buyers[1], channel="email", granted=False, source="shop")

    # then neither the file nor the API lists them
    out = tmp_path / "targets.csv"
    call_command("export_promotion_targets", str(promotion.pk), "--out", str(out), stderr=io.StringIO())
    with out.open() as handle:
        exported = {row["customer_id"] for row in csv.DictReader(handle)}
    assert exported == {"B0", "B2"}
    client.force_login(StaffUserFactory())
    response = client.get(f"/api/promotions/{promotion.pk}/targets/")
    assert {row["customer_id"] for row in response.json()["results"]} == {"B0", "B2"}


def test_the_consent_api_shows_history_and_records_who_changed_it(client):
    customer = CustomerFactory(external_id="C1", email_opt_in=False)
    staff = StaffUserFactory(username="clerk")
    client.force_login(staff)

    response = client.post(
        "/api/customers/C1/consent/",
        {"channel": "post", "granted": True, "lawful_basis": "legitimate_interests"},
        content_type="application/json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["current"] == {"email": False, "sms": False, "push": False, "post": True}
    assert body["history"][0] | {"at": None} == {
        "channel": "post",
        "granted": True,
        "at": None,
        "source": "api",
        "lawful_basis": "legitimate_interests",
    }
    customer.refresh_from_db()
    assert customer.post_opt_in is True
    assert body.pop("changed") is True
    assert client.get("/api/customers/C1/consent/").json() == body


def test_the_consent_api_says_when_the_answer_was_already_so_and_nothing_was_recorded(client):
    CustomerFactory(external_id="C1", email_opt_in=False)
    client.force_login(StaffUserFactory(username="clerk"))
    answer = {"channel": "email", "granted": False, "lawful_basis": "legitimate_interests"}

    response = client.post("/api/customers/C1/consent/", answer, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["changed"] is False
    assert response.json()["history"] == []
    assert not ConsentEvent.objects.exists()


def test_the_consent_api_names_what_is_wrong(client):
    CustomerFactory(external_id="C1")
    client.force_login(StaffUserFactory())
    response = client.post("/api/customers/C1/consent/", {"channel": "fax"}, content_type="application/json")
    assert response.status_code == 400
    # the API's one error shape: each wrong field with its messages
    assert set(response.json()) == {"channel", "granted"}


def test_importing_a_file_without_consent_columns_leaves_consent_as_it_was(tmp_path):
    customer = CustomerFactory(external_id="alice", email_opt_in=True)
    consent_set(customer=customer, channel="sms", granted=True, source="staff")
    file = tmp_path / "orders.csv"
    file.write_text(
        "order_id,customer_id,product_id,quantity,unit_price,ordered_at\n"
        "W1,alice,SKU-1,2,4.50,2024-03-01T10:00:00Z\n"
        "W2,bob,SKU-1,1,4.50,2024-03-02T10:00:00Z\n"
    )
    import_order_file(path=file)

    customer.refresh_from_db()
    assert customer.email_opt_in and customer.sms_opt_in
    assert not Customer.objects.get(external_id="bob").email_opt_in
    assert ConsentEvent.objects.count() == 1


def test_reimporting_an_old_file_does_not_bring_an_erased_customer_back(tmp_path):
    file = tmp_path / "orders.csv"
    file.write_text(
        "order_id,customer_id,product_id,quantity,unit_price,ordered_at\n"
        "W1,alice,SKU-1,2,4.50,2024-03-01T10:00:00Z\n"
        "W2,alice,SKU-1,1,4.50,2024-04-01T10:00:00Z\n"
    )
    import_order_file(path=file)
    customer_erase(customer=Customer.objects.get(external_id="alice"))
    file.write_text(file.read_text() + "W3,alice,SKU-1,1,4.50,2024-05-01T10:00:00Z\n")

    report = import_order_file(path=file)

    assert not Customer.objects.filter(external_id="alice").exists()
    assert report.erased_customers == 1
    assert {order.customer.anonymous for order in Order.objects.all()} == {True}
    assert Order.objects.count() == 3 and ErasureRecord.objects.count() == 1


def test_the_migration_puts_every_recorded_email_consent_into_the_history():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("crm.migrations.0003_data_protection")
    changed_at = timezone.now() - dt.timedelta(days=100)
    opted_in = CustomerFactory(email_opt_in=True, consent_changed_at=changed_at)
    withdrew = CustomerFactory(email_opt_in=False, consent_changed_at=changed_at)
    CustomerFactory(email_opt_in=False, consent_changed_at=None)

    migration.email_consent_into_history(apps, None)

    events = {
        (event.customer_id, event.granted, event.at, event.source) for event in ConsentEvent.objects.all()
    }
    assert events == {
        (opted_in.pk, True, changed_at, "migration"),
        (withdrew.pk, False, changed_at, "migration"),
    }


def test_an_import_sets_consent_where_the_file_says_so_and_keeps_the_history(tmp_path):
    from crm.services.importing import ImportValidationError

    CustomerFactory(external_id="alice", email_opt_in=False)
    CustomerFactory(external_id="bob", email_opt_in=True)
    file = tmp_path / "orders.csv"
    file.write_text(
        "order_id,customer_id,product_id,quantity,unit_price,ordered_at,email_consent,sms_consent\n"
        "W1,alice,SKU-1,2,4.50,2024-03-01T10:00:00Z,no,\n"
        "W2,alice,SKU-1,1,4.50,2024-04-01T10:00:00Z,yes,\n"  # the latest row says yes
        "W3,bob,SKU-1,1,4.50,2024-04-02T10:00:00Z,,no\n"  # e-mail not stated: left as it is
        "W4,carol,SKU-1,1,4.50,2024-04-03T10:00:00Z,Y,TRUE\n"
    )

    report = import_order_file(path=file)

    consent = {
        customer.external_id: (customer.email_opt_in, customer.sms_opt_in)
        for customer in Customer.objects.all()
    }
    assert consent == {"alice": (True, False), "bob": (True, False), "carol": (True, True)}
    events = ConsentEvent.objects.order_by("customer__external_id", "channel")
    assert [(event.customer.external_id, event.channel, event.granted, event.source) for event in events] == [
        ("alice", "email", True, "import"),
        ("carol", "email", True, "import"),
        ("carol", "sms", True, "import"),
    ]
    assert report.consent_changes == 3
    # importing it again changes nothing
    assert import_order_file(path=file).consent_changes == 0

    file.write_text(file.read_text().replace(",Y,TRUE", ",maybe,TRUE"))
    with pytest.raises(ImportValidationError, match="line 5, column email_consent: not yes or no"):
        import_order_file(path=file)


def test_the_consent_api_takes_json_only_so_a_missing_answer_never_reads_as_no(client):
    CustomerFactory(external_id="C1", email_opt_in=True)
    client.force_login(StaffUserFactory())

    response = client.post("/api/customers/C1/consent/", {"channel": "email"})  # a form body, no "granted"

    assert response.status_code == 415
    assert Customer.objects.get(external_id="C1").email_opt_in is True


def test_the_consent_api_takes_an_answer_only_as_true_or_false(client):
    CustomerFactory(external_id="C1", email_opt_in=True)
    client.force_login(StaffUserFactory())

    response = client.post(
        "/api/customers/C1/consent/",
        {"channel": "email", "granted": "false"},
        content_type="application/json",
    )

    assert response.status_code == 400 and set(response.json()) == {"granted"}
    assert Customer.objects.get(external_id="C1").email_opt_in is True


def test_changing_consent_through_the_api_needs_manage_consent_which_marketing_does_not_hold(client):
    """Marketing changed consent with view_customers, a read permission: the role whose campaigns read
    consent could opt customers back in."""
    customer = CustomerFactory(external_id="C1", sms_opt_in=False)
    change = {"channel": "sms", "granted": True}

    client.force_login(StaffUserFactory(roles=[MARKETING]))
    assert client.get("/api/customers/C1/consent/").status_code == 200
    refused = client.post("/api/customers/C1/consent/", change, content_type="application/json")
    assert refused.status_code == 403
    assert "core.manage_consent" in refused.json()["detail"] and "data admin" in refused.json()["detail"]
    customer.refresh_from_db()
    assert customer.sms_opt_in is False and not customer.consent_events.exists()

    client.force_login(StaffUserFactory(roles=[DATA_ADMIN]))
    assert (
        client.post("/api/customers/C1/consent/", change, content_type="application/json").status_code == 200
    )
    customer.refresh_from_db()
    assert customer.sms_opt_in is True


def test_the_schema_names_manage_consent_for_changing_consent_and_view_customers_for_reading_it(client):
    client.force_login(StaffUserFactory())
    schema = client.get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/customers/{external_id}/consent/"]
    assert "core.manage_consent" in operations["post"]["responses"]["403"]["description"]
    assert "core.view_customers" in operations["get"]["responses"]["403"]["description"]

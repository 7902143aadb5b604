import csv
import io

from django.test import Client
from django.urls import reverse

from core.roles import DATA_ADMIN, MARKETING
from crm.models import AuditEvent, ConsentEvent, CustomerNote, CustomerSegment
from tests.factories import CustomerFactory, CustomerSegmentFactory, StaffUserFactory


def _csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_customer_list_filters(staff_client, shop_data):
    run = shop_data["run"]
    quiet = CustomerFactory(name="Quiet Quentin", country="Spain", email_opt_in=False)
    CustomerSegmentFactory(run=run, customer=quiet, rfm_group=CustomerSegment.RfmGroup.LOST, high_value=False)

    def names(query: str) -> set[str]:
        response = staff_client.get(reverse("staff:customer_list") + query)
        assert response.status_code == 200
        return {customer.name for customer in response.context["customers"]}

    assert names("?country=Spain") == {"Quiet Quentin"}
    assert names("?rfm_group=lost") == {"Quiet Quentin"}
    assert names("?consent=no") == {"Quiet Quentin"}
    assert names("?q=quentin") == {"Quiet Quentin"}
    high_value = {segment.customer.name for segment in run.segments.filter(high_value=True)}
    assert names("?high_value=yes") == high_value
    assert "Quiet Quentin" in names("?high_value=no")
    assert len(names("")) == len(shop_data["customers"]) + 1
    # the group by the name the segments page gives it, not its key
    page = staff_client.get(reverse("staff:customer_list") + "?rfm_group=lost").content.decode()
    assert '<span class="badge">Lost</span>' in page and ">lost<" not in page


def test_customer_csv_export_follows_the_filters(staff_client, shop_data):
    response = staff_client.get(reverse("staff:customer_list_csv") + "?country=Germany")
    assert response["Content-Type"] == "text/csv"
    rows = _csv_rows(response)
    germans = [customer for customer in shop_data["customers"] if customer.country == "Germany"]
    assert {row["external_id"] for row in rows} == {customer.external_id for customer in germans}
    assert all(row["orders"] == "2" for row in rows)
    assert all(row["rfm_group"] in CustomerSegment.RfmGroup.values for row in rows)


def test_a_filter_not_understood_exports_nothing_and_lists_no_one(staff_client, shop_data):
    """One bad value (a typo in a group, yes/no given as true, an unknown country, a search too long)
    used to drop every filter: the CSV held every customer's name and e-mail."""
    germany = "?country=Germany"
    for bad in ("&high_value=true", "&rfm_group=champion", "&country=Atlantis", "&q=" + "x" * 101):
        response = staff_client.get(reverse("staff:customer_list_csv") + germany + bad)
        assert response.status_code == 400, bad
        assert response["Content-Type"].startswith("text/plain")
        body = response.content.decode()
        assert "not understood" in body and "Nothing was exported" in body
        assert bad.split("=")[0].lstrip("&") in body
        assert "@" not in body

        page = staff_client.get(reverse("staff:customer_list") + germany + bad)
        assert page.status_code == 400, bad
        assert list(page.context["customers"]) == []
        html = page.content.decode()
        assert 'id="filters-not-understood"' in html
        assert 'id="export-customers"' not in html  # no link to export everyone from here
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_EXPORTED).exists()
    # the same filters with good values still export
    good = staff_client.get(reverse("staff:customer_list_csv") + germany + "&high_value=yes")
    assert good.status_code == 200


def test_customer_360_shows_segment_orders_and_readable_reasons(staff_client, shop_data):
    customer = shop_data["customers"][0]
    bought_with = shop_data["products"][0]
    segment = shop_data["run"].segments.get(customer=customer)

    response = staff_client.get(reverse("staff:customer_detail", args=[customer.pk]))

    html = response.content.decode()
    assert f"Bought with {bought_with.name}" in html
    assert "{product:" not in html
    assert segment.get_rfm_group_display() in html
    assert len(response.context["orders"]) == 2
    assert len(response.context["recommendations"]) == 3
    assert html.count('class="recommendation"') == 3
    assert response.context["segment"] == segment
    assert "Called about order 0" in html


def test_adding_a_note(staff_client, staff_user, shop_data):
    customer = shop_data["customers"][1]
    response = staff_client.post(
        reverse("staff:customer_note_add", args=[customer.pk]),
        {"kind": "call", "body": "  Rang about returns  "},
    )
    assert response.status_code == 302
    note = CustomerNote.objects.get(customer=customer, kind="call")
    assert note.body == "Rang about returns"
    assert note.author == staff_user


def test_an_empty_or_unknown_note_is_refused(staff_client, shop_data):
    customer = shop_data["customers"][1]
    before = CustomerNote.objects.count()

    blank = staff_client.post(
        reverse("staff:customer_note_add", args=[customer.pk]), {"kind": "note", "body": "  "}
    )
    wrong_kind = staff_client.post(
        reverse("staff:customer_note_add", args=[customer.pk]), {"kind": "fax", "body": "Hi"}
    )

    assert blank.status_code == 400
    assert "Write something in the note." in blank.content.decode()
    assert wrong_kind.status_code == 400
    assert "Select a valid choice" in wrong_kind.content.decode()
    assert CustomerNote.objects.count() == before


def test_note_for_a_missing_customer_is_404(staff_client, db):
    assert (
        staff_client.post(reverse("staff:customer_note_add", args=[999999]), {"body": "x"}).status_code == 404
    )


def test_customer_360_lists_the_latest_orders_and_says_how_many_there_are(staff_client):
    import datetime as dt

    from django.utils import timezone

    from crm.selectors.customers import ORDERS_SHOWN
    from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory

    customer = CustomerFactory()
    now = timezone.now()
    for days_ago in range(ORDERS_SHOWN + 3):
        order = OrderFactory(customer=customer, placed_at=now - dt.timedelta(days=days_ago))
        OrderLineFactory(order=order, line_number=1)

    response = staff_client.get(reverse("staff:customer_detail", args=[customer.pk]))

    shown = response.context["orders"]
    assert len(shown) == ORDERS_SHOWN
    assert shown[0].placed_at == max(order.placed_at for order in customer.orders.all())
    assert f"The latest {ORDERS_SHOWN} of {ORDERS_SHOWN + 3} orders." in response.content.decode()


def test_customer_360_counts_sales_and_returns_as_the_order_list_shows_them(staff_client):
    """The page said "Orders 1 · £77,183.60" above a list of two orders (the sale and its return), and
    "The latest 15 of 203 orders" where the list held 250 with the returns."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from crm.models import Order
    from tests.factories import OrderFactory, OrderLineFactory

    customer = CustomerFactory()
    now = timezone.now()
    sale = OrderFactory(customer=customer, placed_at=now - dt.timedelta(days=3))
    OrderLineFactory(order=sale, line_number=1, quantity=74215, unit_price=Decimal("1.04"))
    OrderLineFactory(order=sale, line_number=2, quantity=1, unit_price=Decimal("2.00"))
    refund = OrderFactory(customer=customer, placed_at=now, status=Order.Status.RETURNED)
    OrderLineFactory(order=refund, line_number=1, quantity=-74215, unit_price=Decimal("1.04"))
    CustomerSegmentFactory(customer=customer, frequency=1, recency_days=1)

    response = staff_client.get(reverse("staff:customer_detail", args=[customer.pk]))

    totals = response.context["totals"]
    assert (totals["orders"], totals["sales"], totals["returns"]) == (2, 1, 1)
    assert (totals["revenue"], totals["refunded"]) == (Decimal("77185.60"), Decimal("-77183.60"))
    page = response.content.decode()
    assert "1 sale · £77,185.60<br>1 return · −£77,183.60" in page
    assert "1 day · 1 purchase day</dd>" in page


def test_a_search_that_finds_no_one_says_so_and_not_that_a_filter_was_not_understood(staff_client, shop_data):
    """An empty page of results read as false in the template: a search for no one said the filters
    were not understood, hid the export, and never showed its own "No customer matches"."""
    page = staff_client.get(reverse("staff:customer_list") + "?q=nobody-is-called-this")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="filters-not-understood"' not in html
    assert "No customer matches these filters." in html
    assert "0 customers" in html
    assert 'id="export-customers"' in html


def test_the_data_admin_records_consent_a_customer_gives_or_withdraws_on_the_customer_page(db):
    """Consent could be changed only through the API: staff taking a customer's call had no way."""
    customer = CustomerFactory(sms_opt_in=False, email_opt_in=True)
    admin = StaffUserFactory(username="dora", roles=[DATA_ADMIN])
    client = Client()
    client.force_login(admin)
    page = reverse("staff:customer_detail", args=[customer.pk])
    assert 'id="consent-form"' in client.get(page).content.decode()

    change = reverse("staff:customer_consent_change", args=[customer.pk])
    given = client.post(change, {"channel": "sms", "change": "given", "lawful_basis": "consent"}, follow=True)
    assert "SMS consent given" in given.content.decode()
    withdrawn = client.post(change, {"channel": "email", "change": "withdrawn", "lawful_basis": "consent"})
    assert withdrawn.status_code == 302

    customer.refresh_from_db()
    assert customer.sms_opt_in is True and customer.email_opt_in is False
    events = list(customer.consent_events.order_by("at", "pk"))
    assert [(event.channel, event.granted, event.source, event.recorded_by) for event in events] == [
        ("sms", True, ConsentEvent.Source.STAFF, admin),
        ("email", False, ConsentEvent.Source.STAFF, admin),
    ]
    trail = AuditEvent.objects.filter(action=AuditEvent.Action.CONSENT_CHANGED, via="portal")
    assert trail.count() == 2
    html = client.get(page).content.decode()
    assert "SMS given" in html and "E-mail withdrawn" in html

    again = client.post(change, {"channel": "sms", "change": "given", "lawful_basis": "consent"}, follow=True)
    assert "already given: nothing changed" in again.content.decode()
    assert customer.consent_events.count() == 2

    bad = client.post(change, {"channel": "fax", "change": "given", "lawful_basis": "consent"})
    assert bad.status_code == 400 and "fax is not one of the available choices" in bad.content.decode()


def test_marketing_reads_consent_on_the_customer_page_but_may_not_change_it(db):
    customer = CustomerFactory(sms_opt_in=False)
    client = Client()
    client.force_login(StaffUserFactory(roles=[MARKETING]))
    html = client.get(reverse("staff:customer_detail", args=[customer.pk])).content.decode()
    assert 'id="consent-channels"' in html and 'id="consent-form"' not in html
    refused = client.post(
        reverse("staff:customer_consent_change", args=[customer.pk]),
        {"channel": "sms", "change": "given", "lawful_basis": "consent"},
    )
    assert refused.status_code == 403 and "core.manage_consent" in refused.content.decode()
    customer.refresh_from_db()
    assert customer.sms_opt_in is False


def test_each_channel_says_since_when_its_consent_holds_however_many_changes_follow(db):
    """The section listed the latest 10 changes of all channels: after 12 changes of push, nothing said
    when, or by whom, post had been allowed."""
    from crm.services.privacy import consent_set

    customer = CustomerFactory(post_opt_in=False, push_opt_in=False)
    consent_set(customer=customer, channel="post", granted=True, source="shop")
    for turn in range(12):
        consent_set(customer=customer, channel="push", granted=turn % 2 == 0, source="staff")
    client = Client()
    client.force_login(StaffUserFactory(roles=[DATA_ADMIN]))

    page = client.get(reverse("staff:customer_detail", args=[customer.pk]))

    channels = {label: (granted, change) for label, granted, change in page.context["consent"]}
    assert channels["Post"][0] is True and channels["Post"][1].source == "shop"
    assert channels["SMS"][1] is None
    html = page.content.decode()
    assert "The latest 10 of 13 changes" in html and "Shop (the customer)" in html

"""A shopper's "My data": what the shop keeps, the JSON download, and marketing choices per channel."""

import json

from django.urls import reverse

from crm.models import AuditEvent, ConsentEvent
from crm.pseudonyms import pseudonymize
from crm.services.privacy import consent_set
from tests.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RecommendationFactory,
)


def test_the_shopper_downloads_all_their_data_with_recommendations_and_reasons(
    shopper_client, shopper, shop_data
):
    home = shopper_client.get(reverse("shop:home")).content.decode()
    assert 'href="/my-data/"' in home
    page = shopper_client.get(reverse("shop:my_data"))
    assert page.status_code == 200 and 'id="download-my-data"' in page.content.decode()

    response = shopper_client.get(reverse("shop:my_data_download"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    document = json.loads(response.content)
    assert document["profile"]["name"] == "Sam Shopper"
    assert document["profile"]["login"]["username"] == "shopper"
    assert {order["order_id"] for order in document["orders"]} == set(
        shopper.orders.values_list("external_id", flat=True)
    )
    assert len(document["behaviour_events"]) == shopper.events.count() > 0
    assert len(document["segments"]) == shopper.segments.count() > 0
    reasons = [row["reason"] for row in document["recommendations"]]
    assert reasons and all(reason and "{" not in reason for reason in reasons)
    audit = AuditEvent.objects.get(action="data_export_opened")
    assert (
        audit.actor == shopper.user
        and audit.via == "shop"
        and audit.subject == pseudonymize(shopper.external_id)
    )


def test_the_download_explains_each_recommendations_score(shopper_client, shopper):
    """The logic of the profiling, not only its outcome: each score's explanation as staff see it."""
    explained = RecommendationFactory(
        customer=shopper,
        product=ProductFactory(external_id="P-EXPLAINED"),
        rank=1,
        score=0.61,
        explanation={
            "base": 0.2,
            "output": 0.61,
            "residual": 0.01,
            "groups": {"repeat_buying": 0.3, "co_purchase": 0.1},
            "co_purchase_products": [{"external_id": "P-WITH", "name": "Tea cup"}],
        },
    )
    RecommendationFactory(
        customer=shopper, model_version=explained.model_version, product=ProductFactory(), rank=2, score=0.4
    )

    document = json.loads(shopper_client.get(reverse("shop:my_data_download")).content)

    first, second = document["recommendations"]
    assert first["product_id"] == "P-EXPLAINED"
    explanation = first["explanation"]
    assert [(item["key"], item["value"]) for item in explanation["contributions"]] == [
        ("repeat_buying", 0.3),
        ("co_purchase", 0.1),
    ]
    assert explanation["contributions"][0]["label"] == "Buys this product again and again"
    assert explanation["base"] == 0.2 and explanation["output"] == 0.61
    assert explanation["co_purchase_products"] == [{"external_id": "P-WITH", "name": "Tea cup"}]
    assert second["explanation"] is None


def test_the_download_holds_nobody_elses_data(shopper_client, shopper):
    other = CustomerFactory(name="Olga Other", email="olga@example.test")
    OrderLineFactory(order=OrderFactory(customer=other, external_id="OTHER-1"))
    OrderLineFactory(order=OrderFactory(customer=shopper, external_id="MINE-1"))

    content = shopper_client.get(reverse("shop:my_data_download")).content.decode()

    assert "MINE-1" in content
    assert "OTHER-1" not in content and "Olga" not in content and "olga@example.test" not in content


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for name in ("shop:my_data", "shop:my_data_download"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_shopper_stops_and_allows_marketing_per_channel(shopper_client, shopper):
    shopper.email_opt_in = True
    shopper.save()

    response = shopper_client.post(
        reverse("shop:my_consent"), {"channel": "email", "granted": "no"}, follow=True
    )
    shopper_client.post(reverse("shop:my_consent"), {"channel": "push", "granted": "yes"})

    assert response.status_code == 200
    shopper.refresh_from_db()
    assert not shopper.email_opt_in and shopper.push_opt_in
    events = ConsentEvent.objects.filter(customer=shopper).order_by("at", "pk")
    assert [(event.channel, event.granted, event.source) for event in events] == [
        ("email", False, "shop"),
        ("push", True, "shop"),
    ]
    html = shopper_client.get(reverse("shop:my_data")).content.decode()
    # in the shopper's words, where it read "App push allowed (Shop (the customer))"
    assert 'id="consent-push"' in html and "App push allowed by you</li>" in html
    consent_set(customer=shopper, channel="sms", granted=True, source="staff")
    html = shopper_client.get(reverse("shop:my_data")).content.decode()
    assert "SMS allowed by our staff</li>" in html and "(Staff)" not in html
    bad = shopper_client.post(reverse("shop:my_consent"), {"channel": "fax", "granted": "yes"})
    assert bad.status_code == 400

"""The recommendation endpoints follow what the shopper just did: an ingested event shows in the next read,
another system's cart is completed (for-items), and so is the shopper's own basket."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.crm.api.tokens import api_token_for
from tests.factories import CustomerFactory, OrderLineFactory, StaffUserFactory
from tests.recommender.realtime_shop import served_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(settings):
    """The neighbours get most of the blend here, so the tests are about the mechanism, not the weight."""
    settings.RECOMMENDER_REALTIME_WEIGHT = 0.7
    return served_shop()


def test_an_ingested_event_shows_in_the_next_api_read_for_staff_and_the_shopper(served):
    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(StaffUserFactory())}")
    shopper = APIClient()
    shopper.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(served['customer'].user)}")
    before = staff.get("/api/customers/C1/recommendations/?limit=3").json()["results"]
    assert "Parasol" not in [row["product"]["name"] for row in before]

    response = staff.post(
        "/api/ingest/events/",
        [{"customer_id": "C1", "product_id": "CHAIR", "kind": "view", "at": timezone.now().isoformat()}],
        format="json",
    )
    assert response.status_code == 201, response.content

    for client, url in (
        (staff, "/api/customers/C1/recommendations/?limit=3"),
        (shopper, "/api/me/recommendations/"),
    ):
        first = client.get(url).json()["results"][0]
        assert first["product"]["name"] == "Parasol"
        assert first["reason"] == "Because you viewed Garden chair"


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def test_for_items_completes_another_systems_cart(served):
    client = api_client_for(StaffUserFactory())
    candle = served["candles"][0]
    response = client.post(
        "/api/recommendations/for-items/",
        {"product_ids": [candle.external_id, "CHAIR"], "limit": 3},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    names = [row["product"]["name"] for row in body["results"]]
    assert body["customer_id"] is None and len(names) <= 3
    assert names[0] == "Parasol" and body["results"][0]["reason"] == "Goes with Garden chair in your basket"
    assert candle.external_id not in [row["product"]["external_id"] for row in body["results"]]

    assert body["unknown_product_ids"] == []

    # products this shop does not know are left out and named; the rest is completed
    partly_known = client.post(
        "/api/recommendations/for-items/", {"product_ids": ["NEW-1", "CHAIR", "NEW-1"]}, format="json"
    ).json()
    assert partly_known["unknown_product_ids"] == ["NEW-1"]
    assert partly_known["results"][0]["product"]["name"] == "Parasol"

    # with the customer, the customer's stored list is what gets blended
    with_customer = client.post(
        "/api/recommendations/for-items/", {"product_ids": ["CHAIR"], "customer_id": "C1"}, format="json"
    ).json()
    assert with_customer["customer_id"] == "C1"
    assert candle.external_id in [row["product"]["external_id"] for row in with_customer["results"]]


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"product_ids": ["CHAIR", 5, None, ""]}, "product_ids", "items 1, 2, 3 are not"),
        ({"product_ids": ["CH\x00AIR"]}, "product_ids", "Item 0: Null characters are not allowed."),
        ({"product_ids": []}, "product_ids", ""),
        ({"product_ids": "CHAIR"}, "product_ids", ""),
        ({"product_ids": ["CHAIR"], "limit": 0}, "limit", ""),
    ],
)
def test_for_items_names_what_is_wrong(served, payload, field, words):
    response = api_client_for(StaffUserFactory()).post(
        "/api/recommendations/for-items/", payload, format="json"
    )
    assert response.status_code == 400
    # the documented shape: the field, then a list of messages
    assert all(isinstance(message, str) for message in response.json()[field])
    assert words in str(response.json())


def test_a_shopper_may_blend_only_their_own_list(served):
    other = CustomerFactory(external_id="C2")
    client = api_client_for(served["customer"].user)
    own = client.post(
        "/api/recommendations/for-items/", {"product_ids": ["CHAIR"], "customer_id": "C1"}, format="json"
    )
    assert own.status_code == 200
    theirs = client.post(
        "/api/recommendations/for-items/",
        {"product_ids": ["CHAIR"], "customer_id": other.external_id},
        format="json",
    )
    assert theirs.status_code == 404


def test_the_basket_api_completes_the_shoppers_own_basket(served):
    client = api_client_for(served["customer"].user)
    assert (
        client.get("/api/baskets/current/recommendations/").json()["results"][0]["product"]["name"]
        == "Candle"
    )

    client.post("/api/baskets/current/lines/", {"product_id": "CHAIR", "quantity": 1}, format="json")
    body = client.get("/api/baskets/current/recommendations/?limit=2").json()

    assert body["customer_id"] == "C1"
    assert [row["product"]["name"] for row in body["results"]] == ["Parasol", "Cushion"]
    assert body["results"][0]["reason"] == "Goes with Garden chair in your basket"
    # a login with no customer record is told so
    staff = api_client_for(StaffUserFactory())
    assert staff.get("/api/baskets/current/recommendations/").status_code == 404


def test_a_shorter_list_is_the_start_of_the_longer_one_when_recent_activity_re_ranks_it(settings):
    """The minimum of never-bought products was kept within whatever length was asked: with limit=1 the
    one place went to a never-bought product that the full list ranks third."""
    settings.RECOMMENDER_REALTIME_WEIGHT = 0.2
    settings.RECOMMENDER_MIN_NEW_ITEMS = 1
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = 1.0
    shop = served_shop()
    for candle in shop["candles"]:
        OrderLineFactory(order__customer=shop["customer"], product=candle)
    client = api_client_for(StaffUserFactory())
    client.post(
        "/api/ingest/events/",
        [{"customer_id": "C1", "product_id": "CHAIR", "kind": "view", "at": timezone.now().isoformat()}],
        format="json",
    )

    def listed(limit: int) -> list[tuple[int, str]]:
        rows = client.get(f"/api/customers/C1/recommendations/?limit={limit}").json()["results"]
        return [(row["rank"], row["product"]["name"]) for row in rows]

    full = listed(10)
    assert full[0][1] == "Candle" and "Parasol" in [name for _, name in full]
    for limit in range(1, len(full)):
        assert listed(limit) == full[:limit]

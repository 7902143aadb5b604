"""Recommendations react to what the shopper just did, on every face, from the stored rows."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm.models import Basket, BehaviourEvent
from recommender.selectors import (
    basket_completion_rows,
    recommendation_rows_for_customer,
    recommendation_rows_for_session,
)
from tests.crm.api.tokens import api_token_for
from tests.factories import (
    BasketFactory,
    BasketLineFactory,
    BehaviourEventFactory,
    CustomerFactory,
    StaffUserFactory,
)
from tests.recommender.realtime_shop import served_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(settings):
    """The neighbours get most of the blend here, so the tests are about the mechanism, not the weight."""
    settings.RECOMMENDER_REALTIME_WEIGHT = 0.7
    return served_shop()


def product_ids(rows):
    return [row["product_id"] for row in rows]


def test_without_recent_activity_the_stored_list_is_served_as_stored(served):
    rows = recommendation_rows_for_customer(customer=served["customer"], limit=10)
    assert product_ids(rows) == [product.pk for product in served["candles"]]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4]


def test_a_view_brings_up_what_goes_with_it_naming_the_viewed_product(served):
    # given the shopper just looked at the garden chair
    BehaviourEventFactory(customer=served["customer"], product=served["chair"], kind=BehaviourEvent.Kind.VIEW)

    # when their list is read
    rows = recommendation_rows_for_customer(customer=served["customer"], limit=4)

    # then the chair's neighbours lead it, with the reason naming the chair, ranked 1..4
    assert product_ids(rows)[:2] == [served["parasol"].pk, served["cushion"].pk]
    assert rows[0]["reason"] == "Because you viewed Garden chair"
    assert rows[0]["product__name"] == "Parasol" and rows[0]["model_version_id"] is not None
    assert [row["rank"] for row in rows] == [1, 2, 3, 4]
    # the stored list's best product stays, with its stored reason
    assert rows[2]["product_id"] == served["candles"][0].pk and rows[2]["reason"] == "You buy this regularly"


def test_activity_older_than_the_window_or_of_other_kinds_changes_nothing(served, settings):
    settings.RECOMMENDER_REALTIME_WINDOW_MINUTES = 30
    customer = served["customer"]
    BehaviourEventFactory(
        customer=customer, product=served["chair"], at=timezone.now() - dt.timedelta(hours=1)
    )
    BehaviourEventFactory(
        customer=customer, product=served["chair"], kind=BehaviourEvent.Kind.RECOMMENDATION_IMPRESSION
    )
    rows = recommendation_rows_for_customer(customer=customer, limit=10)
    assert product_ids(rows) == [product.pk for product in served["candles"]]


def test_basket_completion_leaves_out_the_basket_and_names_it(served):
    rows = basket_completion_rows(
        basket=[(served["candles"][1].pk, "Candle"), (served["chair"].pk, "Garden chair")],
        customer=served["customer"],
        limit=5,
    )
    ids = product_ids(rows)
    assert served["chair"].pk not in ids and served["candles"][1].pk not in ids
    assert ids[0] == served["parasol"].pk
    assert rows[0]["reason"] == "Goes with Garden chair in your basket"


def test_an_anonymous_session_gets_the_popular_list_re_ranked_by_its_own_views(served):
    assert product_ids(recommendation_rows_for_session(session_key="s1", limit=5)) == [
        served["candles"][0].pk,
        served["parasol"].pk,
    ]
    BehaviourEvent.objects.create(
        session_key="s1", product=served["cushion"], kind=BehaviourEvent.Kind.VIEW, at=timezone.now()
    )
    BehaviourEvent.objects.create(
        session_key="s2", product=served["chair"], kind=BehaviourEvent.Kind.VIEW, at=timezone.now()
    )
    # s1 viewed a cushion (no neighbours): unchanged; s2's chair view is not s1's
    assert (
        product_ids(recommendation_rows_for_session(session_key="s1", limit=5))[0] == served["candles"][0].pk
    )
    rows = recommendation_rows_for_session(session_key="s2", limit=5)
    assert product_ids(rows)[:2] == [served["parasol"].pk, served["cushion"].pk]


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


def test_the_open_basket_counts_however_old_and_its_products_are_left_out(served, settings):
    settings.RECOMMENDER_REALTIME_WINDOW_MINUTES = 1
    basket = BasketFactory(customer=served["customer"])
    BasketLineFactory(basket=basket, product=served["candles"][0])
    BasketLineFactory(basket=basket, product=served["chair"])
    Basket.objects.filter(pk=basket.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))

    rows = recommendation_rows_for_customer(customer=served["customer"], limit=4)

    ids = product_ids(rows)
    assert served["candles"][0].pk not in ids and served["chair"].pk not in ids
    assert rows[0]["product_id"] == served["parasol"].pk
    assert rows[0]["reason"] == "Goes with Garden chair in your basket"

    # an ordered basket is no longer a basket
    Basket.objects.filter(pk=basket.pk).update(status=Basket.Status.ORDERED)
    assert served["candles"][0].pk in product_ids(
        recommendation_rows_for_customer(customer=served["customer"])
    )


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

import pytest
from rest_framework.test import APIClient

from tests.factories import CustomerFactory, OrderFactory, RecommendationFactory

pytestmark = pytest.mark.django_db

STAFF_ONLY = [
    "/api/customers/",
    "/api/customers/SHOP1/",
    "/api/products/",
    "/api/orders/",
    "/api/segments/",
    "/api/segments/customers/",
    "/api/promotions/",
    "/api/model-versions/",
    "/api/jobs/",
]


@pytest.mark.parametrize("url", [*STAFF_ONLY, "/api/me/", "/api/me/orders/", "/api/products/P1/similar/"])
def test_anonymous_requests_are_unauthorised(anonymous_client, url):
    response = anonymous_client.get(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("url", STAFF_ONLY)
def test_a_shopper_is_forbidden_staff_endpoints(shopper_client, url):
    assert shopper_client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/api/ingest/orders/", "/api/ingest/events/"])
def test_a_shopper_cannot_ingest(shopper_client, url):
    assert shopper_client.post(url, [], format="json").status_code == 403


def test_a_shopper_gets_404_for_another_customers_recommendations(shopper_client, shopper):
    other = CustomerFactory(external_id="OTHER")
    RecommendationFactory(customer=other)

    response = shopper_client.get(f"/api/customers/{other.external_id}/recommendations/")
    missing = shopper_client.get("/api/customers/NOBODY/recommendations/")

    assert response.status_code == 404
    assert missing.status_code == 404
    # The same answer whether or not the customer exists, so ids cannot be probed.
    assert response.json() == {"detail": "No customer with id 'OTHER'."}
    assert missing.json() == {"detail": "No customer with id 'NOBODY'."}


def test_a_shopper_reads_their_own_record_and_orders_only(shopper_client, shopper):
    own_order = OrderFactory(customer=shopper, external_id="MINE")
    OrderFactory(external_id="NOT-MINE")

    me = shopper_client.get("/api/me/")
    orders = shopper_client.get("/api/me/orders/")

    assert me.status_code == 200
    assert me.json()["external_id"] == "SHOP1"
    assert [order["external_id"] for order in orders.json()["results"]] == [own_order.external_id]


def test_a_login_without_a_customer_record_has_no_me(staff_client):
    response = staff_client.get("/api/me/")

    assert response.status_code == 404
    assert "No customer record" in response.json()["detail"]


def test_a_token_is_obtained_with_username_and_password_and_then_works(shopper):
    client = APIClient()

    response = client.post(
        "/api/auth/token/", {"username": "shopper", "password": "pass-word-123"}, format="json"
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")

    assert client.get("/api/me/").json()["external_id"] == shopper.external_id


def test_a_wrong_password_gets_no_token(shopper):
    response = APIClient().post(
        "/api/auth/token/", {"username": "shopper", "password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()


def test_session_login_works_for_staff(staff_user):
    client = APIClient()
    client.force_login(staff_user)

    assert client.get("/api/customers/").status_code == 200

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from crm.services.api_tokens import api_token_create
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

    assert response.status_code == 401
    assert response.json() == {"detail": "Unable to log in with the given username and password."}


def test_a_login_with_numbers_for_strings_is_a_400_naming_them(shopper):
    # it answered 401 "Unable to log in", as if the schema's strings had been sent
    response = APIClient().post("/api/auth/token/", {"username": 123, "password": 456}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_session_login_works_for_staff(staff_user):
    client = APIClient()
    client.force_login(staff_user)

    assert client.get("/api/customers/").status_code == 200


def test_token_checks_apply_on_every_request(staff_client, staff_user):
    assert staff_client.get("/api/customers/").status_code == 200

    # a deactivated login is refused at once
    staff_user.is_active = False
    staff_user.save(update_fields=["is_active"])
    inactive = staff_client.get("/api/customers/")
    assert inactive.status_code == 401
    assert inactive.json() == {"detail": "User inactive or deleted."}

    # so is a deleted token, and rights taken away count from the next request
    staff_user.is_active = True
    staff_user.is_staff = False
    staff_user.save(update_fields=["is_active", "is_staff"])
    assert staff_client.get("/api/customers/").status_code == 403
    AuthToken.objects.filter(user=staff_user).delete()
    revoked = staff_client.get("/api/me/")
    assert revoked.status_code == 401
    assert revoked.json() == {"detail": "Invalid token."}


def test_a_token_authenticates_as_its_own_user(shopper, staff_user):
    token, key = api_token_create(user=shopper.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.get("/api/me/")

    assert response.json()["external_id"] == "SHOP1"
    assert response.wsgi_request.user == shopper.user
    assert response.wsgi_request.auth == token
    assert response.wsgi_request.auth.user.username == "shopper"


def _throttle_entries() -> dict:
    from django.core.cache import cache

    return {key: value for key, value in cache._cache.items() if "throttle" in key}


def test_throttle_state_stays_small_for_a_busy_integration(staff_client):
    # the default user rate is 100,000 an hour: what is kept per client must not grow with each request
    customer = CustomerFactory(external_id="BUSY")
    for _ in range(300):
        assert staff_client.get(f"/api/customers/{customer.external_id}/").status_code == 200

    entries = _throttle_entries()
    assert entries, "the request was counted"
    assert max(len(value) for value in entries.values()) < 200  # pickled bytes: a counter, not 300 times


def test_a_client_over_its_rate_waits_for_the_next_window(staff_client):
    rates = {"anon": "1000/min", "user": "3/min", "ingest": "10/min"}
    from django.conf import settings
    from django.test import override_settings

    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        statuses = [staff_client.get("/api/customers/").status_code for _ in range(4)]
        refused = staff_client.get("/api/customers/")

    assert statuses == [200, 200, 200, 429]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "Request was throttled" in refused.json()["detail"]

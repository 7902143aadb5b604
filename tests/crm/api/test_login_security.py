"""Password guessing is stopped, API tokens are stored hashed and can be taken back, and a client cannot
pick its own address to dodge rate limits and lockouts."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from crm.services.api_tokens import api_token_create, api_tokens_revoke
from tests.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def _token_login(client: APIClient, username: str, password: str, address: str = "203.0.113.7", **headers):
    return client.post(
        "/api/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **headers,
    )


def test_token_login_locks_out_after_repeated_wrong_passwords(shopper):
    client = APIClient()

    statuses = [_token_login(client, "shopper", f"guess-{n}").status_code for n in range(40)]
    right_password = _token_login(client, "shopper", "pass-word-123")

    # the failure that reaches the limit is already refused
    assert statuses[: LIMIT - 1] == [401] * (LIMIT - 1)
    assert set(statuses[LIMIT - 1 :]) == {429}
    # locked out: even the right password gets no token until the cool-off has passed
    assert right_password.status_code == 429
    assert right_password.json() == {"detail": "Too many failed logins; try again later."}
    assert int(right_password["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()


def test_the_account_is_locked_whatever_address_the_guesses_come_from(shopper):
    client = APIClient()

    for n in range(LIMIT):
        _token_login(client, "shopper", "wrong", address=f"198.51.100.{n}")
    from_a_new_address = _token_login(client, "shopper", "pass-word-123", address="192.0.2.1")

    assert from_a_new_address.status_code == 429


def test_guesses_at_one_account_do_not_lock_out_the_others_behind_the_same_address(shopper):
    """Ten wrong passwords for one account locked its whole address out, every login behind the same
    NAT with it."""
    client = APIClient()
    UserFactory(username="victim")

    for _ in range(LIMIT):
        _token_login(client, "victim", "wrong")

    assert _token_login(client, "victim", "wrong").status_code == 429
    assert _token_login(client, "shopper", "pass-word-123").status_code == 200


def test_logging_in_to_ones_own_account_between_guesses_does_not_clear_the_victims_count(shopper):
    """A successful login cleared every failure counted from its address, so guesses at another account
    interleaved with logins to one's own were never locked out."""
    client = APIClient()
    UserFactory(username="victim", password="the-victims-pass-1")

    statuses = []
    for n in range(3 * LIMIT):
        statuses.append(_token_login(client, "victim", f"guess-{n}").status_code)
        assert _token_login(client, "shopper", "pass-word-123").status_code == 200

    assert statuses[: LIMIT - 1] == [401] * (LIMIT - 1)
    assert set(statuses[LIMIT - 1 :]) == {429}
    assert _token_login(client, "victim", "the-victims-pass-1").status_code == 429


def test_the_sign_in_page_keeps_the_victims_count_when_the_attacker_signs_in_between():
    UserFactory(username="victim", password="the-victims-pass-1")
    UserFactory(username="attacker", password="the-attackers-pass-1")
    client = Client(REMOTE_ADDR="203.0.113.9")

    statuses = []
    for n in range(LIMIT + 2):
        statuses.append(
            client.post("/accounts/login/", {"username": "victim", "password": f"guess-{n}"}).status_code
        )
        own = client.post("/accounts/login/", {"username": "attacker", "password": "the-attackers-pass-1"})
        assert own.status_code == 302
        client.logout()

    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)
    assert statuses[-1] == 429
    locked = client.post("/accounts/login/", {"username": "victim", "password": "the-victims-pass-1"})
    assert locked.status_code == 429
    # a page of the site saying when to try again, where it was a bare line of text
    page = locked.content.decode()
    assert 'id="locked-out"' in page and "try again in 15 minutes" in page
    assert locked["Retry-After"] == "900"


def test_an_address_that_fails_at_many_accounts_is_locked_out_though_no_account_is(shopper, settings):
    """A few guesses at each of many accounts from one address reached no account's limit, and nothing
    counted them together: only the API's anonymous rate limit slowed them, and the sign-in page had
    none."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3 * LIMIT
    for n in range(12):
        UserFactory(username=f"user-{n}")
    api, page = APIClient(), Client(REMOTE_ADDR="203.0.113.7")

    statuses = []
    for n in range(12):
        for guess in range(3):
            statuses.append(_token_login(api, f"user-{n}", f"guess-{guess}").status_code)
            # the attacker's own account, signed in to between guesses, clears none of it
            assert (
                n * 3 + guess + 1 >= 3 * LIMIT
                or _token_login(api, "shopper", "pass-word-123").status_code == 200
            )

    assert statuses[: 3 * LIMIT - 1] == [401] * (3 * LIMIT - 1)
    assert set(statuses[3 * LIMIT - 1 :]) == {429}
    # every account from that address, the right password too, on the API and the sign-in page
    assert _token_login(api, "shopper", "pass-word-123").status_code == 429
    assert (
        page.post("/accounts/login/", {"username": "shopper", "password": "pass-word-123"}).status_code == 429
    )
    # no account is locked: from another address the same login works
    assert _token_login(api, "shopper", "pass-word-123", address="192.0.2.1").status_code == 200
    assert _token_login(api, "user-0", "wrong", address="192.0.2.1").status_code == 401


def test_the_limit_per_address_is_well_above_an_accounts_and_can_be_turned_off(shopper, settings):
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT >= 5 * LIMIT
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 0
    client = APIClient()
    for n in range(3 * LIMIT):
        UserFactory(username=f"user-{n}")
        _token_login(client, f"user-{n}", "wrong")

    assert _token_login(client, "shopper", "pass-word-123").status_code == 200


def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(shopper):
    client = APIClient()

    for n in range(LIMIT):
        _token_login(client, "shopper", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = _token_login(client, "shopper", "pass-word-123", HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client():
    # NUM_PROXIES=1: the address the proxy appended (the last one) is the client's; what the client
    # itself put in front of it is ignored
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        from crm.api.client import client_address

        request = RequestFactory().get(
            "/api/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9"
        )
        assert client_address(request) == "198.51.100.9"
    request = RequestFactory().get("/api/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(request) == "10.0.0.2"  # NUM_PROXIES=0 by default: the header is not trusted


def test_anonymous_rate_limit_counts_the_connection_not_the_forwarded_for_header():
    rates = {"anon": "3/min", "user": "1000/min", "ingest": "10/min"}
    client = APIClient()
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        statuses = [
            client.post("/api/auth/token/", {}, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
            for n in range(4)
        ]

    assert statuses == [400, 400, 400, 429]


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_the_login_pages_lock_out_too(url):
    StaffUserFactory(username="boss")
    client = Client(REMOTE_ADDR="203.0.113.9")

    statuses = [
        client.post(url, {"username": "boss", "password": f"guess-{n}"}).status_code for n in range(LIMIT + 2)
    ]
    right_password = client.post(url, {"username": "boss", "password": "pass-word-123"})

    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form again, with its error
    assert statuses[-1] == 429
    assert right_password.status_code == 429
    assert "Retry-After" in right_password


def test_a_successful_login_clears_the_count(shopper):
    client = APIClient()
    for _ in range(LIMIT - 1):
        _token_login(client, "shopper", "wrong")

    assert _token_login(client, "shopper", "pass-word-123").status_code == 200
    assert _token_login(client, "shopper", "wrong").status_code == 401
    assert _token_login(client, "shopper", "pass-word-123").status_code == 200


# --- Tokens ---------------------------------------------------------------------------------------


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_stored_only_as_a_digest(shopper):
    response = _token_login(APIClient(), "shopper", "pass-word-123")
    key = response.json()["token"]

    stored = AuthToken.objects.get(user=shopper.user)
    assert key not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # SHA-512
    assert key.startswith(stored.token_key)  # the first characters only, to tell tokens apart


def test_a_token_expires(shopper, settings):
    response = _token_login(APIClient(), "shopper", "pass-word-123")
    expiry = dt.datetime.fromisoformat(response.json()["expiry"])
    key = response.json()["token"]
    assert expiry - timezone.now() > dt.timedelta(hours=settings.API_TOKEN_TTL_HOURS - 1)

    AuthToken.objects.filter(user=shopper.user).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    expired = _client(key).get("/api/me/")

    assert expired.status_code == 401
    assert expired.json() == {"detail": "Token expired; log in again."}
    # the next login clears the expired one away
    _token_login(APIClient(), "shopper", "pass-word-123")
    assert AuthToken.objects.filter(user=shopper.user).count() == 1


def test_delete_revokes_the_token_in_use_and_only_that_one(shopper):
    _, phone = api_token_create(user=shopper.user)
    _, laptop = api_token_create(user=shopper.user)

    revoked = _client(phone).delete("/api/auth/token/")

    assert revoked.status_code == 204
    assert _client(phone).get("/api/me/").status_code == 401
    assert _client(laptop).get("/api/me/").status_code == 200


def test_a_session_has_no_token_to_revoke(shopper):
    client = APIClient()
    client.force_login(shopper.user)

    response = client.delete("/api/auth/token/")

    assert response.status_code == 400
    assert response.json() == {"detail": "This request was not made with a token."}


def test_revoking_every_token_of_a_login(shopper):
    keys = [api_token_create(user=shopper.user)[1] for _ in range(2)]
    _, others = api_token_create(user=UserFactory())

    assert api_tokens_revoke(user=shopper.user) == 2
    assert [_client(key).get("/api/me/").status_code for key in keys] == [401, 401]
    assert _client(others).get("/api/auth/token/").status_code == 405  # still a valid login


def test_changing_the_password_revokes_the_tokens(shopper):
    _, key = api_token_create(user=shopper.user)
    assert _client(key).get("/api/me/").status_code == 200

    shopper.user.set_password("a-new-pass-word-456")
    shopper.user.save()

    assert _client(key).get("/api/me/").status_code == 401


def test_saving_a_login_without_a_new_password_keeps_its_tokens(shopper):
    _, key = api_token_create(user=shopper.user)

    shopper.user.first_name = "Ann"
    shopper.user.save()

    assert _client(key).get("/api/me/").status_code == 200

"""The portal's API tokens room: every staff member sees and revokes their own tokens; a role holding
``manage_api_tokens`` (the data admin) sees every login's and revokes them into the audit trail. A
revoked token is refused by the API at its next request."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.roles import DATA_ADMIN, MARKETING
from crm.models import AuditEvent
from crm.services.api_tokens import api_token_create
from crm.services.privacy import customer_subject
from tests.factories import CustomerFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

# A staff endpoint every role with the portal may read: 200 with a working token, 401 with a revoked one.
API_URL = "/api/jobs/"


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _token(user) -> tuple[AuthToken, str]:
    return api_token_create(user=user)


def _api_status(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(API_URL).status_code


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_staff_member_sees_their_own_tokens_and_no_one_elses(staff_user, staff_client):
    # given two tokens of the staff member, one of them expired, and a colleague's token
    mine, mine_key = _token(staff_user)
    expired, _ = _token(staff_user)
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - dt.timedelta(minutes=1))
    colleagues, _ = _token(StaffUserFactory(username="colleague"))

    response = staff_client.get(reverse("staff:api_tokens"))

    assert response.status_code == 200
    html = response.content.decode()
    shown = {token.token_key: token.expired for token in response.context["tokens"]}
    assert shown == {mine.token_key: False, expired.token_key: True}
    assert mine.token_key in html and expired.token_key in html and "Expired" in html
    assert colleagues.token_key not in html
    assert html.count('name="csrfmiddlewaretoken"') == html.count('method="post"')
    assert 'id="revoke-all-api-tokens"' in html
    # a token's string is never stored, so never shown: only its first characters
    assert mine_key not in html


def test_revoking_a_token_in_the_portal_stops_it_working_at_the_api(staff_user, staff_client):
    token, key = _token(staff_user)
    kept, kept_key = _token(staff_user)
    assert _api_status(key) == 200

    response = staff_client.post(reverse("staff:api_token_revoke"), {"token": token.digest}, follow=True)

    assert response.redirect_chain == [(reverse("staff:api_tokens"), 302)]
    assert _messages(response) == [f"Token {token.token_key}… revoked: whatever used it must log in again."]
    assert _api_status(key) == 401
    assert _api_status(kept_key) == 200
    # revoking one's own token is not an entry of the audit trail
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.API_TOKEN_REVOKED).exists()


def test_revoke_all_revokes_every_token_of_the_login_and_only_theirs(staff_user, staff_client):
    keys = [_token(staff_user)[1] for _ in range(3)]
    _, colleague_key = _token(StaffUserFactory(username="colleague"))

    response = staff_client.post(reverse("staff:api_tokens_revoke"), follow=True)

    assert _messages(response) == ["3 API tokens of yours revoked: whatever used them must log in again."]
    assert [_api_status(key) for key in keys] == [401, 401, 401]
    assert _api_status(colleague_key) == 200
    assert list(response.context["tokens"]) == []

    again = staff_client.post(reverse("staff:api_tokens_revoke"), follow=True)
    assert _messages(again) == ["You held no API tokens to revoke."]


def test_a_staff_member_without_a_role_still_manages_their_own_tokens(db):
    user = StaffUserFactory(username="no-role", roles=[])
    token, key = _token(user)
    client = _signed_in(user)

    assert client.get(reverse("staff:api_tokens")).status_code == 200
    assert client.get(reverse("staff:api_tokens_all")).status_code == 403
    assert client.post(reverse("staff:api_token_revoke"), {"token": token.digest}).status_code == 302
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_the_data_admin_sees_every_logins_tokens_filtered_by_username(db):
    admin = _signed_in(StaffUserFactory(username="keeper", roles=[DATA_ADMIN]))
    alice, _ = _token(StaffUserFactory(username="alice"))
    bob, _ = _token(StaffUserFactory(username="bob"))
    shopper, _ = _token(CustomerFactory(user=UserFactory(username="sam")).user)

    everyone = admin.get(reverse("staff:api_tokens_all"))
    only_alice = admin.get(reverse("staff:api_tokens_all"), {"username": "ALI"})

    assert everyone.status_code == 200
    assert {token.token_key for token in everyone.context["tokens"]} == {
        alice.token_key,
        bob.token_key,
        shopper.token_key,
    }
    assert [token.token_key for token in only_alice.context["tokens"]] == [alice.token_key]
    assert bob.token_key not in only_alice.content.decode()
    # the own page links to it for this role
    assert 'id="all-api-tokens"' in admin.get(reverse("staff:api_tokens")).content.decode()


def test_a_filter_the_page_cannot_use_lists_no_tokens(db):
    """A username longer than a login's showed its error above every login's tokens, with their
    Revoke buttons: a list the filter did not choose."""
    admin = _signed_in(StaffUserFactory(username="keeper", roles=[DATA_ADMIN]))
    alice, _ = _token(StaffUserFactory(username="alice"))

    response = admin.get(reverse("staff:api_tokens_all"), {"username": "a" * 151})

    html = response.content.decode()
    assert response.status_code == 400 and "at most 150 characters" in html
    assert list(response.context["tokens"]) == []
    assert alice.token_key not in html and "revoke-api-token" not in html


def test_a_logins_revoke_all_button_says_what_it_revokes(db):
    admin = _signed_in(StaffUserFactory(username="keeper", roles=[DATA_ADMIN]))
    _token(StaffUserFactory(username="alice"))

    html = admin.get(reverse("staff:api_tokens_all")).content.decode()

    assert ">Revoke all of this login's tokens</button>" in html


def test_the_data_admin_revokes_another_logins_token_and_the_audit_trail_records_it(db):
    keeper = StaffUserFactory(username="keeper", roles=[DATA_ADMIN])
    admin = _signed_in(keeper)
    colleague = StaffUserFactory(username="colleague")
    token, key = _token(colleague)
    _, other_key = _token(colleague)

    response = admin.post(
        reverse("staff:api_token_revoke_any"), {"token": token.digest, "username": "coll"}, follow=True
    )

    assert response.redirect_chain == [(reverse("staff:api_tokens_all") + "?username=coll", 302)]
    assert _messages(response) == [
        f"Token {token.token_key}… of colleague revoked: whatever used it must log in again."
    ]
    assert _api_status(key) == 401
    assert _api_status(other_key) == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_TOKEN_REVOKED)
    assert (event.actor, event.actor_name, event.via, event.subject) == (
        keeper,
        "keeper",
        "portal",
        "colleague",
    )
    assert event.detail == {"login_id": colleague.pk, "tokens": 1, "token": token.token_key}
    # and the audit trail's page shows it
    trail = admin.get(reverse("staff:audit_list"), {"action": "api_token_revoked"})
    assert list(trail.context["events"]) == [event]


def test_the_data_admin_revokes_all_of_a_shoppers_tokens_naming_them_by_hash_in_the_trail(db):
    keeper = StaffUserFactory(username="keeper", roles=[DATA_ADMIN])
    admin = _signed_in(keeper)
    customer = CustomerFactory(user=UserFactory(username="sam@example.com"))
    keys = [_token(customer.user)[1] for _ in range(2)]
    _, keepers_key = _token(keeper)

    response = admin.post(reverse("staff:api_tokens_revoke_login"), {"user": customer.user.pk}, follow=True)

    assert _messages(response) == [
        "2 API tokens of sam@example.com revoked: whatever used them must log in again."
    ]
    assert not AuthToken.objects.filter(user=customer.user).exists()
    assert _api_status(keepers_key) == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_TOKEN_REVOKED)
    assert event.actor == keeper
    assert event.subject == customer_subject(customer) and "sam" not in event.subject
    assert event.detail == {"login_id": customer.user.pk, "tokens": 2, "token": "all"}
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Token {keys[0]}")
    assert me.get("/api/me/").status_code == 401


def test_staff_without_the_permission_cannot_see_or_revoke_others_tokens(db):
    marketer = _signed_in(StaffUserFactory(username="marketer", roles=[MARKETING]))
    colleague = StaffUserFactory(username="colleague")
    token, key = _token(colleague)

    listing = marketer.get(reverse("staff:api_tokens_all"))
    by_the_managers_form = marketer.post(reverse("staff:api_token_revoke_any"), {"token": token.digest})
    all_of_theirs = marketer.post(reverse("staff:api_tokens_revoke_login"), {"user": colleague.pk})
    by_the_own_form = marketer.post(reverse("staff:api_token_revoke"), {"token": token.digest})

    assert listing.status_code == 403
    assert by_the_managers_form.status_code == 403
    assert all_of_theirs.status_code == 403
    assert by_the_own_form.status_code == 404
    assert AuthToken.objects.filter(pk=token.pk).exists()
    assert _api_status(key) == 200
    assert 'id="all-api-tokens"' not in marketer.get(reverse("staff:api_tokens")).content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.API_TOKEN_REVOKED).exists()


ROOM = [
    ("get", "staff:api_tokens"),
    ("post", "staff:api_token_revoke"),
    ("post", "staff:api_tokens_revoke"),
    ("get", "staff:api_tokens_all"),
    ("post", "staff:api_token_revoke_any"),
    ("post", "staff:api_tokens_revoke_login"),
]


@pytest.mark.parametrize(("method", "name"), ROOM)
def test_a_shopper_never_reaches_the_room(shopper, shopper_client, method, name):
    token, _ = _token(shopper.user)

    response = getattr(shopper_client, method)(
        reverse(name), {"token": token.digest, "user": shopper.user.pk}
    )

    assert response.status_code == 403
    assert AuthToken.objects.filter(pk=token.pk).exists()


@pytest.mark.parametrize(("method", "name"), ROOM)
def test_anonymous_visitors_are_sent_to_login(client, method, name):
    response = getattr(client, method)(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_a_revocation_needs_the_forms_csrf_token_and_says_what_is_missing(staff_user):
    token, key = _token(staff_user)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff_user)

    assert strict.post(reverse("staff:api_token_revoke"), {"token": token.digest}).status_code == 403
    assert strict.post(reverse("staff:api_tokens_revoke")).status_code == 403
    assert _api_status(key) == 200

    missing = _signed_in(staff_user).post(reverse("staff:api_token_revoke"), {})
    assert missing.status_code == 400
    assert "token field" in missing.content.decode()


@pytest.mark.parametrize("name", ["staff:api_tokens", "staff:api_tokens_all"])
def test_the_pages_cost_the_same_queries_whatever_the_number_of_tokens(
    staff_user, staff_client, name, django_assert_max_num_queries
):
    _token(staff_user)
    with django_assert_max_num_queries(7) as few:
        assert staff_client.get(reverse(name)).status_code == 200
    for number in range(5):
        login = StaffUserFactory(username=f"login-{number}", roles=[])
        _token(login)
        _token(staff_user)
    with django_assert_max_num_queries(7) as many:
        assert staff_client.get(reverse(name)).status_code == 200
    assert len(many) == len(few)

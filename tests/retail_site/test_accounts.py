"""The accounts pages: sign-in, sign-out and a password change; no password reset by e-mail."""

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse


def test_sign_in_and_password_change_are_there(db):
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/accounts/password_change/").status_code == 302  # signed-in users only
    assert reverse("logout") == "/accounts/logout/"


@pytest.mark.parametrize(
    "path", ["/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/done/"]
)
def test_there_is_no_password_reset_that_promises_a_mail_never_sent(db, path):
    assert Client().get(path).status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("password_reset")


def test_staff_land_in_the_portal_and_shoppers_in_the_shop_unless_next_says_where(db):
    """Every staff login landed on the shop's home page."""
    from tests.factories import StaffUserFactory, UserFactory

    StaffUserFactory(username="marta", password="a-long-pass-1")
    UserFactory(username="sam", password="a-long-pass-2")

    def signed_in(username: str, password: str, next_url: str = "") -> str:
        query = f"?next={next_url}" if next_url else ""
        response = Client().post(f"/accounts/login/{query}", {"username": username, "password": password})
        assert response.status_code == 302
        return response["Location"]

    assert signed_in("marta", "a-long-pass-1") == reverse("staff:dashboard")
    assert signed_in("sam", "a-long-pass-2") == "/"
    assert signed_in("marta", "a-long-pass-1", "/catalogue/") == "/catalogue/"


def _password_change(client: Client, old_password: str, new_password: str = "a-new-pass-word-456"):
    return client.post(
        "/accounts/password_change/",
        {"old_password": old_password, "new_password1": new_password, "new_password2": new_password},
    )


def test_wrong_old_passwords_on_the_password_change_lock_the_account_out(db, settings):
    """The old password was checked apart from the login lockout: a signed-in session could guess it
    without limit (15 wrong, then the right one changed the password)."""
    from tests.factories import UserFactory

    user = UserFactory(username="sam", password="a-long-pass-2")
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(user)
    limit = settings.AXES_FAILURE_LIMIT

    statuses = [_password_change(client, f"guess-{n}").status_code for n in range(limit + 5)]
    right_password = _password_change(client, "a-long-pass-2")

    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(statuses[limit - 1 :]) == {429}
    assert right_password.status_code == 429
    assert "Retry-After" in right_password
    user.refresh_from_db()
    assert user.check_password("a-long-pass-2")
    # the account's logins are locked out as well: the guesses were at its password
    signed_in = Client(REMOTE_ADDR="198.51.100.1").post(
        "/accounts/login/", {"username": "sam", "password": "a-long-pass-2"}
    )
    assert signed_in.status_code == 429


def test_a_wrong_old_password_is_told_and_the_right_one_still_changes_it(db):
    from knox.models import AuthToken

    from crm.services.api_tokens import api_token_create
    from tests.factories import UserFactory

    user = UserFactory(username="sam", password="a-long-pass-2")
    client, other_session = Client(), Client()
    client.force_login(user)
    other_session.force_login(user)
    api_token_create(user=user)

    wrong = _password_change(client, "not-it")
    changed = _password_change(client, "a-long-pass-2")

    assert wrong.status_code == 200
    assert "Your old password was entered incorrectly" in wrong.content.decode()
    assert changed.status_code == 302 and changed["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password("a-new-pass-word-456")
    assert client.get("/accounts/password_change/").status_code == 200  # this session goes on
    assert other_session.get("/accounts/password_change/").status_code == 302  # the others are signed out
    assert not AuthToken.objects.filter(user=user).exists()

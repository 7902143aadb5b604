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

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

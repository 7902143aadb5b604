"""API tokens in a real browser: the data admin finds a leaked integration token among every login's
tokens and revokes it (after a confirmation that can be declined), and the token stops working."""

import pytest
from rest_framework.test import APIClient

from core.roles import DATA_ADMIN, MARKETING
from crm.models import AuditEvent
from tests.browser.helpers import log_in
from tests.crm.api.tokens import api_token_for
from tests.factories import CustomerFactory, StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_data_admin_revokes_another_logins_token_after_confirming(page):
    StaffUserFactory(username="admin-dana", roles=[DATA_ADMIN])
    integration = StaffUserFactory(username="mailer-sync", roles=[MARKETING])
    customer = CustomerFactory(external_id="C-1")
    token = api_token_for(integration)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(f"/api/customers/{customer.external_id}/recommendations/").status_code == 200

    log_in(page, username="admin-dana", next_url="/staff/api-tokens/")
    page.click("#all-api-tokens")
    page.fill("#api-token-filters input[name=username]", "mailer")
    with page.expect_navigation():
        page.click("#api-token-filters button[type=submit]")
    rows = page.locator("#api-token-table tbody tr")
    assert rows.count() == 1 and "mailer-sync" in rows.first.inner_text()

    # declining the confirmation sends nothing
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click(".revoke-api-token")
    assert rows.count() == 1
    assert api.get(f"/api/customers/{customer.external_id}/recommendations/").status_code == 200

    # accepting it revokes the token: the page says so and the API refuses it from the next request
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        page.click(".revoke-api-token")
    assert questions and questions[0].startswith("Revoke mailer-sync's token")
    assert "revoked" in page.inner_text(".messages")
    assert page.locator(".revoke-api-token").count() == 0
    assert api.get(f"/api/customers/{customer.external_id}/recommendations/").status_code == 401
    assert AuditEvent.objects.filter(action="api_token_revoked").count() == 1

"""Revoking API tokens: a login's own revocations, a password change and erasure leave no audit entry;
another login revoking them does, naming a shopper by their keyed hash and a staff login by username."""

import pytest
from knox.models import AuthToken

from crm.models import AuditEvent
from crm.services.api_tokens import api_token_create, api_token_revoke, api_tokens_revoke
from crm.services.privacy import customer_subject
from tests.factories import CustomerFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def _revocations() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.API_TOKEN_REVOKED))


def test_revoking_ones_own_token_or_with_no_one_named_is_not_audited():
    user = StaffUserFactory(username="owner")
    first, _ = api_token_create(user=user)
    second, _ = api_token_create(user=user)

    assert api_token_revoke(token=first, revoked_by=user, via="portal") is True
    assert api_token_revoke(token=second) is True
    assert api_tokens_revoke(user=user, revoked_by=user) == 0

    assert not AuthToken.objects.filter(user=user).exists()
    assert _revocations() == []


def test_another_login_revoking_a_token_is_audited_once_and_a_second_revocation_changes_nothing():
    owner = StaffUserFactory(username="owner")
    admin = StaffUserFactory(username="admin")
    token, _ = api_token_create(user=owner)

    assert api_token_revoke(token=token, revoked_by=admin, via="portal") is True
    assert api_token_revoke(token=token, revoked_by=admin, via="portal") is False

    [event] = _revocations()
    assert (event.actor, event.subject, event.via) == (admin, "owner", "portal")
    assert event.detail == {"login_id": owner.pk, "tokens": 1, "token": token.token_key}


def test_revoking_all_of_a_shoppers_tokens_names_them_by_hash_and_counts_them():
    customer = CustomerFactory(user=UserFactory(username="sam@example.com"))
    admin = StaffUserFactory(username="admin")
    for _ in range(3):
        api_token_create(user=customer.user)

    assert api_tokens_revoke(user=customer.user, revoked_by=admin, via="portal") == 3
    assert api_tokens_revoke(user=customer.user, revoked_by=admin, via="portal") == 0

    [event] = _revocations()
    assert event.subject == customer_subject(customer)
    assert event.detail == {"login_id": customer.user.pk, "tokens": 3, "token": "all"}

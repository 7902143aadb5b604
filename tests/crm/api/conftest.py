import pytest
from rest_framework.test import APIClient

from tests.crm.api.tokens import api_token_for
from tests.factories import CustomerFactory, StaffUserFactory, UserFactory


def _client_with_token(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


@pytest.fixture
def staff_user(db):
    return StaffUserFactory(username="staff")


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return _client_with_token(staff_user)


@pytest.fixture
def shopper(db):
    """A customer with a shop login (not staff)."""
    return CustomerFactory(external_id="SHOP1", user=UserFactory(username="shopper"))


@pytest.fixture
def shopper_client(shopper) -> APIClient:
    return _client_with_token(shopper.user)


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()

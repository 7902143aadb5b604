"""The shop's pages show recommendations that follow what the shopper just looked at."""

import pytest
from django.test import Client

from tests.factories import CustomerFactory, UserFactory
from tests.recommender.realtime_shop import served_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(settings):
    settings.RECOMMENDER_REALTIME_WEIGHT = 0.7
    return served_shop(CustomerFactory(external_id="C1", name="Sam", user=UserFactory(username="sam")))


def test_a_viewed_product_changes_the_shoppers_home_page_at_once(served):
    client = Client()
    client.force_login(served["customer"].user)
    assert "Because you viewed" not in client.get("/").content.decode()

    assert client.get(f"/products/{served['chair'].pk}/").status_code == 200

    page = client.get("/").content.decode()
    assert "Because you viewed Garden chair" in page
    assert page.index("Parasol") < page.index("Candle")

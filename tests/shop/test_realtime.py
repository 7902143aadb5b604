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


def test_a_first_time_visitor_sees_the_popular_list(served):
    """It showed only once the visit had done something; README promises visitors the popular list."""
    page = Client().get("/").content.decode()

    section = page[page.index('id="recommended"') :]
    assert "Popular with our customers" in section
    assert f'data-product-id="{served["parasol"].pk}"' in section


def test_a_visitor_gets_picks_for_their_visit_and_a_basket_to_complete(served):
    # given a visitor who is not signed in looks at the garden chair
    client = Client()
    client.get(f"/products/{served['chair'].pk}/")

    # then the home page follows that view
    page = client.get("/").content.decode()
    assert "For your visit" in page and "Because you viewed Garden chair" in page

    # when they put the chair in the basket
    response = client.post("/basket/add/", {"product_id": served["chair"].pk, "quantity": 1})
    assert response.status_code == 302

    # then the basket page offers what completes it, and never the chair itself
    page = client.get("/basket/").content.decode()
    section = page[page.index('id="complete-basket"') :]
    assert "Complete your basket" in section and "Parasol" in section
    assert "Goes with Garden chair in your basket" in section
    assert f'data-product-id="{served["chair"].pk}"' not in section


def test_a_signed_in_shoppers_basket_is_completed_with_their_own_list(served):
    client = Client()
    client.force_login(served["customer"].user)
    client.post("/basket/add/", {"product_id": served["chair"].pk, "quantity": 2})

    section = client.get("/basket/").content.decode().split('id="complete-basket"')[1]
    assert section.index("Parasol") < section.index("Candle")
    # the home page leaves the basket's products out and leads with what goes with them
    home = client.get("/").content.decode()
    assert "Goes with Garden chair in your basket" in home
    assert (
        f'data-product-id="{served["chair"].pk}"'
        not in home.split('id="recommended"')[1].split("</section>")[0]
    )

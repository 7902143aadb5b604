"""Every shop page costs the same number of queries whatever the amount of data behind it."""

import pytest
from django.urls import reverse

from tests.shop_data import build_shop_data

# The most queries each page may run, counted as pytest-django counts them (session, user and
# transaction savepoints included). A shop page's header counts the items in the basket: one query.
SHOP_PAGES = {
    "home": 14,  # + the shopper's basket and recent activity, which re-rank their list
    "catalogue": 8,
    "product_detail": 9,
    "basket": 9,
    "order_list": 9,  # + counting the shopper's orders for the pages
    "order_detail": 8,
    "recommendation_click": 9,
}


def _shop_url(name: str, data: dict, shopper) -> str:
    recommendation = shopper.recommendations.order_by("rank").first()
    kwargs = {
        "product_detail": {"product_id": data["products"][0].pk},
        "order_detail": {"order_id": shopper.orders.order_by("pk").first().pk},
        "recommendation_click": {"product_id": recommendation.product_id},
    }.get(name, {})
    url = reverse(f"shop:{name}", kwargs=kwargs)
    if name == "recommendation_click":
        url += f"?v={recommendation.model_version_id}"
    return url


def _get(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code in (200, 302), url


@pytest.mark.parametrize("name", SHOP_PAGES)
def test_shop_page_queries_do_not_grow_with_data(
    shopper_client, shopper, name, django_assert_max_num_queries
):
    small = build_shop_data(1, shopper=shopper)
    with django_assert_max_num_queries(SHOP_PAGES[name]) as small_queries:
        _get(shopper_client, _shop_url(name, small, shopper))
    build_shop_data(6)
    with django_assert_max_num_queries(SHOP_PAGES[name]) as large_queries:
        _get(shopper_client, _shop_url(name, small, shopper))
    assert len(large_queries) == len(small_queries)

"""Who may see the shop's pages: anyone for the catalogue, a signed-in shopper for their orders."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize("path", ["/", "/catalogue/", "/catalogue/?q=Product", "product", "/accounts/login/"])
def test_shop_pages_render_for_anonymous_and_shoppers(client, shopper_client, shop_data, path):
    if path == "product":
        path = reverse("shop:product_detail", args=[shop_data["products"][0].pk])
    assert client.get(path).status_code == 200
    assert shopper_client.get(path).status_code == 200


def test_order_history_needs_a_login(client, shopper_client, shop_data):
    response = client.get(reverse("shop:order_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert shopper_client.get(reverse("shop:order_list")).status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/catalogue/", "/catalogue/?q=anything", "/accounts/login/", "/orders/"]
)
def test_shop_pages_render_for_a_new_shop_without_any_data(client, shopper_client, path):
    assert shopper_client.get(path).status_code == 200
    if path != "/orders/":
        assert client.get(path).status_code == 200

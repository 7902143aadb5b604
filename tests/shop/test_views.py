import datetime as dt

from django.urls import reverse
from django.utils import timezone

from crm.models import BehaviourEvent, Order
from recommender.models import ModelVersion
from tests.factories import OrderFactory, OrderLineFactory, PopularProductFactory, ProductFactory


def test_product_page_records_a_view_and_shows_bought_together(shopper_client, shopper, shop_data):
    product = shop_data["products"][0]
    response = shopper_client.get(reverse("shop:product_detail", args=[product.pk]))
    assert response.status_code == 200
    assert BehaviourEvent.objects.filter(kind="view", customer=shopper, product=product).count() == 1
    assert [row.neighbour for row in response.context["bought_together"]] == [shop_data["products"][-1]]


def test_home_shows_recommendations_with_reasons_and_records_impressions(shopper_client, shopper, shop_data):
    version = shop_data["version"]
    BehaviourEvent.objects.all().delete()
    response = shopper_client.get(reverse("shop:home"))
    html = response.content.decode()

    recommendations = response.context["recommendations"]
    assert len(recommendations) == 3
    assert html.count('class="product-card recommendation"') == 3
    reason_product = shop_data["products"][len(shop_data["customers"]) - 1]
    assert html.count(f'<span class="reason">Bought with {reason_product.name}</span>') == 3
    impressions = BehaviourEvent.objects.filter(kind="recommendation_impression", customer=shopper)
    assert impressions.count() == 3
    assert set(impressions.values_list("model_version_id", flat=True)) == {version.pk}
    assert f'href="/r/{recommendations[0]["product_id"]}/?v={version.pk}"' in html


def test_clicking_an_own_recommendation_is_recorded(shopper_client, shopper, shop_data):
    version = shop_data["version"]
    recommended = shopper.recommendations.get(rank=1).product

    response = shopper_client.get(
        reverse("shop:recommendation_click", args=[recommended.pk]) + f"?v={version.pk}"
    )

    assert response["Location"] == reverse("shop:product_detail", args=[recommended.pk])
    click = BehaviourEvent.objects.get(kind="recommendation_click")
    assert (click.customer, click.product, click.model_version_id) == (shopper, recommended, version.pk)


def test_clicks_on_things_not_recommended_to_the_shopper_are_not_recorded(
    client, shopper_client, shopper, shop_data
):
    version = shop_data["version"]
    recommended_to_shopper = set(shopper.recommendations.values_list("product_id", flat=True))
    other = next(product for product in shop_data["products"] if product.pk not in recommended_to_shopper)
    own = shopper.recommendations.get(rank=1).product

    for response in (
        shopper_client.get(reverse("shop:recommendation_click", args=[other.pk]) + f"?v={version.pk}"),
        shopper_client.get(reverse("shop:recommendation_click", args=[own.pk]) + "?v=not-a-number"),
        shopper_client.get(reverse("shop:recommendation_click", args=[own.pk]) + f"?v={version.pk + 99}"),
        client.get(reverse("shop:recommendation_click", args=[own.pk]) + f"?v={version.pk}"),
    ):
        assert response.status_code == 302
    assert not BehaviourEvent.objects.filter(kind="recommendation_click").exists()


def test_cold_start_shopper_gets_popular_products_and_their_clicks_count(db, shopper_client, shopper):
    version = ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE)
    popular = PopularProductFactory(model_version=version, country="France", rank=1)

    html = shopper_client.get(reverse("shop:home")).content.decode()
    shopper_client.get(reverse("shop:recommendation_click", args=[popular.product_id]) + f"?v={version.pk}")

    assert "Popular in France" in html
    assert BehaviourEvent.objects.filter(kind="recommendation_click", product=popular.product).count() == 1


def test_a_shopper_sees_only_their_own_orders(shopper_client, shopper, shop_data):
    someone_else = shop_data["customers"][0]
    their_order = someone_else.orders.first()
    own_order = shopper.orders.first()

    history = shopper_client.get(reverse("shop:order_list"))
    assert {order.customer_id for order in history.context["orders"]} == {shopper.pk}
    assert their_order.external_id not in history.content.decode()
    assert shopper_client.get(reverse("shop:order_detail", args=[their_order.pk])).status_code == 404
    own = shopper_client.get(reverse("shop:order_detail", args=[own_order.pk]))
    assert own.status_code == 200
    assert own_order.external_id in own.content.decode()
    total = sum(line.quantity * line.unit_price for line in own_order.lines.all())
    assert f'<td class="num" id="order-total"><strong>£{total:.2f}</strong>' in own.content.decode()


def test_every_order_of_a_long_history_is_reachable_page_by_page(shopper_client, shopper):
    """The page showed the newest 50 and said nothing of the rest (the demo's shopper has 249)."""
    Order.objects.filter(customer=shopper).delete()
    start = timezone.now() - dt.timedelta(days=100)
    for day in range(30):
        OrderFactory(external_id=f"H{day:02d}", customer=shopper, placed_at=start + dt.timedelta(days=day))

    first = shopper_client.get(reverse("shop:order_list"))
    second = shopper_client.get(reverse("shop:order_list"), {"page": 2})

    seen = [order.external_id for response in (first, second) for order in response.context["orders"]]
    assert seen == [f"H{day:02d}" for day in reversed(range(30))]
    assert len(first.context["orders"]) == 25
    html = first.content.decode()
    assert "30 orders, newest first" in html
    assert 'rel="next"' in html


def test_catalogue_search_category_and_pages(client, db):
    from tests.factories import CategoryFactory

    kitchen = CategoryFactory(name="Kitchen", path="Home/Kitchen")
    garden = CategoryFactory(name="Garden", path="Garden")
    for index in range(30):
        ProductFactory(name=f"Mug {index:02d}", category=kitchen)
    ProductFactory(name="Watering can", category=garden)
    ProductFactory(name="Hidden mug", category=kitchen, active=False)
    ProductFactory(name="Sold-out mug", category=kitchen, stock=0)

    first = client.get(reverse("shop:catalogue") + "?q=mug")
    assert first.context["page"].paginator.count == 30
    assert len(first.context["products"]) == 24
    second = client.get(reverse("shop:catalogue") + "?q=mug&page=2")
    assert len(second.context["products"]) == 6
    garden_page = client.get(reverse("shop:catalogue") + "?category=Garden")
    assert [product.name for product in garden_page.context["products"]] == ["Watering can"]
    assert client.get(reverse("shop:catalogue") + "?category=Nowhere").status_code == 404


def test_the_shop_lists_only_categories_holding_a_product_it_shows(client, db):
    """An ingest naming "a//b/" made categories "a" and "a/b" for no product the shop sells, and the
    shop listed them, leading to "0 products"."""
    from tests.factories import CategoryFactory

    garden = CategoryFactory(name="Garden", path="Garden")
    kitchen = CategoryFactory(name="Kitchen", path="Home/Kitchen")
    CategoryFactory(name="Home", path="Home")
    CategoryFactory(name="a", path="a")
    sold_out = CategoryFactory(name="Sold out", path="Sold out")
    ProductFactory(name="Watering can", category=garden)
    ProductFactory(name="Mug", category=kitchen)
    ProductFactory(name="Last lamp", category=sold_out, stock=0)

    listed = [category.path for category in client.get(reverse("shop:catalogue")).context["categories"]]
    emptied = client.get(reverse("shop:catalogue") + "?category=Sold out")

    assert listed == ["Garden", "Home", "Home/Kitchen"]
    # a category emptied since a shopper's link still opens, with no products
    assert emptied.status_code == 200 and list(emptied.context["products"]) == []


def test_inactive_products_have_no_page(client, db):
    product = ProductFactory(active=False)
    assert client.get(reverse("shop:product_detail", args=[product.pk])).status_code == 404


def test_order_page_lists_lines_of_guest_items_too(shopper_client, shopper):
    order = OrderFactory(customer=shopper)
    OrderLineFactory(order=order, line_number=1, product=None, item_code="POST", item_name="Postage")
    html = shopper_client.get(reverse("shop:order_detail", args=[order.pk])).content.decode()
    assert "Postage" in html

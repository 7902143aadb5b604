"""The shop's basket: adding from product pages and the catalogue, changing and removing lines, the
anonymous basket joining the account at sign-in, and placing the order."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Basket, BasketLine, BehaviourEvent, Order
from crm.services.baskets import basket_create, basket_line_add
from crm.services.privacy import retention_apply
from tests.factories import CustomerFactory, ProductFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # tests.factories.UserFactory's


@pytest.fixture
def shopper():
    return CustomerFactory(user=UserFactory(username="basket-shopper"), country="France")


@pytest.fixture
def shopper_client(shopper) -> Client:
    client = Client()
    client.force_login(shopper.user)
    return client


@pytest.fixture
def lantern():
    return ProductFactory(external_id="71053", name="White lantern", price=Decimal("3.39"), stock=10)


def add(client: Client, product, quantity="1", **extra):
    return client.post(reverse("shop:basket_add"), {"product_id": product.pk, "quantity": quantity, **extra})


def lines_of(customer=None, basket_id=None) -> dict[str, int]:
    lines = BasketLine.objects.filter(basket__status="open")
    lines = lines.filter(basket__customer=customer) if customer else lines.filter(basket_id=basket_id)
    return dict(lines.values_list("product__external_id", "quantity"))


# --- Anonymous visitors -------------------------------------------------------------------------


def test_a_first_time_visitors_product_view_is_recorded(client, lantern):
    response = client.get(reverse("shop:product_detail", args=[lantern.pk]))

    assert response.status_code == 200
    event = BehaviourEvent.objects.get()
    assert (event.kind, event.product, event.customer) == ("view", lantern, None)
    assert event.session_key == client.session["anonymous_key"]
    # The key is the visitor's own, not the session's key (which is a credential and changes at sign-in).
    assert event.session_key != client.session.session_key


def test_retention_deletes_expired_sessions(client, lantern):
    client.get(reverse("shop:product_detail", args=[lantern.pk]))
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    alive = Client()
    alive.get(reverse("shop:product_detail", args=[lantern.pk]))

    retention_apply()

    assert list(Session.objects.values_list("session_key", flat=True)) == [alive.session.session_key]


def test_product_page_and_catalogue_offer_add_to_basket(client, lantern):
    ProductFactory(name="Sold-out lantern", stock=0)
    page = client.get(reverse("shop:product_detail", args=[lantern.pk])).content.decode()
    catalogue = client.get(reverse("shop:catalogue")).content.decode()

    for html in (page, catalogue):
        assert f'action="{reverse("shop:basket_add")}"' in html
        assert f'name="product_id" value="{lantern.pk}"' in html
        assert "csrfmiddlewaretoken" in html
    assert catalogue.count("Add to basket") == 1  # not for the product out of stock


def test_a_product_without_a_price_is_shown_as_not_for_sale_and_cannot_be_added(client, lantern):
    free = ProductFactory(name="Unpriced lantern", price=Decimal("0.00"))
    page = client.get(reverse("shop:product_detail", args=[free.pk])).content.decode()
    catalogue = client.get(reverse("shop:catalogue")).content.decode()

    assert 'id="not-for-sale"' in page and "£0.00" not in page
    assert "Add to basket" not in page
    assert "Unpriced lantern" not in catalogue
    add(client, free, "1")
    assert not BasketLine.objects.filter(product=free).exists()


def test_an_anonymous_visitor_fills_a_basket_kept_in_their_session(client, lantern):
    page = reverse("shop:product_detail", args=[lantern.pk])

    response = add(client, lantern, "2", next=page)
    add(client, lantern, "1")

    assert response.status_code == 302
    assert response["Location"] == page
    basket_id = client.session["basket_id"]
    assert lines_of(basket_id=basket_id) == {"71053": 3}
    assert Basket.objects.get(pk=basket_id).customer is None
    events = BehaviourEvent.objects.filter(kind="add_to_cart")
    assert events.count() == 2
    assert set(events.values_list("session_key", flat=True)) == {client.session["anonymous_key"]}
    html = client.get(reverse("shop:basket")).content.decode()
    assert '<span class="badge" id="basket-count">3</span>' in html
    assert "£10.17" in html


def test_a_next_address_off_the_site_is_not_followed(client, lantern):
    response = add(client, lantern, next="https://elsewhere.example/")
    assert response["Location"] == reverse("shop:basket")


def test_viewing_the_basket_is_recorded(client, shopper_client, shopper):
    client.get(reverse("shop:basket"))
    shopper_client.get(reverse("shop:basket"))

    views = BehaviourEvent.objects.filter(kind="basket_view").order_by("pk")
    assert [(event.customer, event.session_key) for event in views] == [
        (None, client.session["anonymous_key"]),
        (shopper, ""),
    ]


def test_an_anonymous_visitor_signs_in_to_place_the_order(client, lantern):
    add(client, lantern)

    response = client.post(reverse("shop:basket_order"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/basket/"
    assert not Order.objects.exists()


def test_signing_in_joins_the_anonymous_basket_and_events_to_the_account(client, shopper, lantern):
    candle = ProductFactory(external_id="C1")
    own = basket_create(customer=shopper)
    basket_line_add(basket=own, product=lantern, quantity=1)
    client.get(reverse("shop:product_detail", args=[candle.pk]))
    add(client, lantern, "2")
    add(client, candle, "1")
    anonymous_key = client.session["anonymous_key"]
    anonymous_basket = client.session["basket_id"]

    response = client.post(reverse("login"), {"username": "basket-shopper", "password": PASSWORD})

    assert response.status_code == 302
    assert lines_of(customer=shopper) == {"71053": 3, "C1": 1}
    assert not Basket.objects.filter(pk=anonymous_basket).exists()
    assert "basket_id" not in client.session and "anonymous_key" not in client.session
    claimed = BehaviourEvent.objects.filter(session_key=anonymous_key)
    assert sorted(claimed.values_list("kind", flat=True)) == ["add_to_cart", "add_to_cart", "view"]
    assert set(claimed.values_list("customer", flat=True)) == {shopper.pk}
    html = client.get(reverse("shop:basket")).content.decode()
    assert '<span class="badge" id="basket-count">4</span>' in html


# --- Changing the basket ------------------------------------------------------------------------


def test_changing_and_removing_lines(shopper_client, shopper, lantern):
    candle = ProductFactory(external_id="C1", name="Candle")
    add(shopper_client, lantern, "1")
    add(shopper_client, candle, "1")

    shopper_client.post(reverse("shop:basket_line_update", args=[lantern.pk]), {"quantity": "4"})
    removed = shopper_client.post(reverse("shop:basket_line_remove", args=[candle.pk]))

    assert removed["Location"] == reverse("shop:basket")
    assert lines_of(customer=shopper) == {"71053": 4}
    shopper_client.post(reverse("shop:basket_line_update", args=[lantern.pk]), {"quantity": "0"})
    assert lines_of(customer=shopper) == {}
    kinds = BehaviourEvent.objects.filter(customer=shopper).order_by("pk").values_list("kind", "product")
    assert list(kinds) == [
        ("add_to_cart", lantern.pk),
        ("add_to_cart", candle.pk),
        ("remove_from_cart", candle.pk),
        ("remove_from_cart", lantern.pk),
    ]


def test_the_basket_page_shows_lines_totals_and_the_place_order_button(shopper_client, lantern):
    add(shopper_client, lantern, "3")

    response = shopper_client.get(reverse("shop:basket"))

    html = response.content.decode()
    summary = response.context["summary"]
    assert (summary.item_count, summary.total) == (3, Decimal("10.17"))
    assert "White lantern" in html and "£10.17" in html
    assert f'action="{reverse("shop:basket_line_update", args=[lantern.pk])}"' in html
    assert f'action="{reverse("shop:basket_line_remove", args=[lantern.pk])}"' in html
    assert f'name="basket_id" value="{summary.basket.pk}"' in html
    assert 'id="place-order"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"quantity": "1"}, "Choose a product."),
        ({"product_id": "abc", "quantity": "1"}, "Choose a product."),
        ({"product_id": "99999999999999999999999", "quantity": "1"}, "Choose a product."),
        ({"product_id": "{product}", "quantity": "abc"}, "whole number from 1 to 999"),
        ({"product_id": "{product}", "quantity": "0"}, "whole number from 1 to 999"),
        ({"product_id": "{product}", "quantity": "1000"}, "whole number from 1 to 999"),
        ({"product_id": "{product}", "quantity": "-2"}, "whole number from 1 to 999"),
        ({"product_id": "{product}"}, "Enter a quantity."),
    ],
)
def test_bad_input_to_add_is_a_clear_400(client, lantern, data, message):
    data = {key: value.format(product=lantern.pk) for key, value in data.items()}

    response = client.post(reverse("shop:basket_add"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BasketLine.objects.exists()


def test_unknown_or_withdrawn_products_cannot_be_added(client):
    withdrawn = ProductFactory(active=False)
    assert (
        client.post(reverse("shop:basket_add"), {"product_id": "424242", "quantity": "1"}).status_code == 404
    )
    assert add(client, withdrawn).status_code == 404
    assert not BasketLine.objects.exists()


def test_bad_quantity_on_a_line_is_a_clear_400(shopper_client, shopper, lantern):
    add(shopper_client, lantern, "2")
    url = reverse("shop:basket_line_update", args=[lantern.pk])
    for quantity in ("many", "1000", "-1", ""):
        response = shopper_client.post(url, {"quantity": quantity})
        assert response.status_code == 400
        assert "The quantity must be a whole number from 0 to 999" in response.content.decode() or (
            "Enter a quantity." in response.content.decode()
        )
    assert lines_of(customer=shopper) == {"71053": 2}


def test_asking_for_more_than_in_stock_says_so(shopper_client, shopper):
    scarce = ProductFactory(name="Rare vase", stock=2)

    response = add(shopper_client, scarce, "3")

    assert response.status_code == 302
    html = shopper_client.get(response["Location"]).content.decode()
    assert "Only 2 of Rare vase left in stock." in html
    assert lines_of(customer=shopper) == {}


def test_the_get_method_is_not_a_way_to_change_the_basket(shopper_client, lantern):
    assert shopper_client.get(reverse("shop:basket_add") + f"?product_id={lantern.pk}").status_code == 405


# --- Placing the order ---------------------------------------------------------------------------


def test_placing_the_order_shows_it_lowers_stock_and_empties_the_basket(shopper_client, shopper, lantern):
    add(shopper_client, lantern, "3")
    basket = Basket.objects.get(customer=shopper)

    response = shopper_client.post(reverse("shop:basket_order"), {"basket_id": basket.pk}, follow=True)

    order = Order.objects.get()
    assert response.redirect_chain == [(reverse("shop:order_detail", args=[order.pk]), 302)]
    html = response.content.decode()
    assert f"your order WEB-{basket.pk} is placed" in html
    assert "White lantern" in html
    assert (order.customer, order.channel, order.status) == (shopper, "web", "placed")
    assert list(order.lines.values_list("product", "quantity", "unit_price")) == [
        (lantern.pk, 3, Decimal("3.3900"))
    ]
    lantern.refresh_from_db()
    assert lantern.stock == 7
    assert '<span class="badge" id="basket-count">0</span>' in html
    assert BehaviourEvent.objects.filter(kind="purchase", customer=shopper, product=lantern).count() == 1


def test_sending_the_order_form_twice_places_one_order(shopper_client, shopper, lantern):
    add(shopper_client, lantern, "1")
    basket = Basket.objects.get(customer=shopper)

    first = shopper_client.post(reverse("shop:basket_order"), {"basket_id": basket.pk})
    second = shopper_client.post(reverse("shop:basket_order"), {"basket_id": basket.pk})

    assert (
        first["Location"] == second["Location"] == reverse("shop:order_detail", args=[Order.objects.get().pk])
    )
    lantern.refresh_from_db()
    assert lantern.stock == 9


def test_not_enough_stock_at_placing_returns_to_the_basket_with_the_reason(shopper_client, shopper, lantern):
    add(shopper_client, lantern, "3")
    lantern.stock = 1
    lantern.save()

    response = shopper_client.post(reverse("shop:basket_order"), follow=True)

    assert response.redirect_chain == [(reverse("shop:basket"), 302)]
    assert "Only 1 of White lantern left in stock." in response.content.decode()
    assert "Only 1 left" in response.content.decode()  # the line is marked
    assert not Order.objects.exists()


def test_a_staff_login_without_a_customer_cannot_place_orders(lantern):
    client = Client()
    client.force_login(StaffUserFactory())
    add(client, lantern)

    response = client.post(reverse("shop:basket_order"), follow=True)

    assert "not linked to a customer account" in response.content.decode()
    assert not Order.objects.exists()


# --- Another shopper -----------------------------------------------------------------------------


def test_another_shopper_can_neither_see_nor_touch_my_basket(shopper_client, shopper, lantern):
    add(shopper_client, lantern, "2")
    mine = Basket.objects.get(customer=shopper)
    other = Client()
    other.force_login(CustomerFactory(user=UserFactory(username="other-shopper")).user)

    page = other.get(reverse("shop:basket"))
    changed = other.post(reverse("shop:basket_line_update", args=[lantern.pk]), {"quantity": "9"})
    removed = other.post(reverse("shop:basket_line_remove", args=[lantern.pk]))
    ordered = other.post(reverse("shop:basket_order"), {"basket_id": mine.pk})

    assert page.context["summary"].lines == []
    assert "White lantern" not in page.content.decode()
    # each is sent back to their own basket, as for a line it no longer holds
    assert [(r.status_code, r["Location"]) for r in (changed, removed)] == [(302, reverse("shop:basket"))] * 2
    assert ordered.status_code == 302 and ordered["Location"] == reverse("shop:basket")
    assert lines_of(customer=shopper) == {"71053": 2}
    assert not Order.objects.exists()
    # An anonymous visitor neither: their session holds no basket id of mine.
    assert Client().post(reverse("shop:basket_line_remove", args=[lantern.pk])).status_code == 302
    assert lines_of(customer=shopper) == {"71053": 2}


def test_the_basket_page_costs_the_same_queries_however_many_lines(
    shopper_client, shopper, django_assert_max_num_queries
):
    basket = basket_create(customer=shopper)
    basket_line_add(basket=basket, product=ProductFactory(), quantity=1)
    # 12, and "Complete your basket": the shopper's recent activity, their stored list, the basket's
    # neighbours
    # (with no version served, the popular list is read from the orders once and cached: cleared before
    # each read, so both count it)
    cache.clear()
    with django_assert_max_num_queries(15) as one_line:
        shopper_client.get(reverse("shop:basket"))
    for _ in range(6):
        basket_line_add(basket=basket, product=ProductFactory(), quantity=2)
    cache.clear()
    with django_assert_max_num_queries(15) as seven_lines:
        shopper_client.get(reverse("shop:basket"))
    assert len(seven_lines) == len(one_line)


@pytest.mark.parametrize("product_id", ["99999999999999999999", "9223372036854775808"])
def test_a_line_past_any_id_is_not_in_the_basket(client, lantern, product_id):
    """Such a number reached the database: SQLite, the demo's, refused it and the shop answered 500."""
    add(client, lantern, "1")
    for name in ("basket_line_update", "basket_line_remove"):
        path = reverse(f"shop:{name}", args=[1]).replace("/1/", f"/{product_id}/")
        response = client.post(path, {"quantity": "1"})
        assert (response.status_code, response["Location"]) == (302, reverse("shop:basket"))
    assert lines_of(basket_id=client.session["basket_id"]) == {"71053": 1}


def test_removing_a_line_twice_goes_back_to_the_basket(client, lantern):
    """A double click or a resubmitted form showed an error page the second time."""
    add(client, lantern, "1")
    path = reverse("shop:basket_line_remove", args=[lantern.pk])
    client.post(path)

    again = client.post(path, follow=True)

    assert again.status_code == 200 and again.redirect_chain == [(reverse("shop:basket"), 302)]
    assert "no longer in your basket" in again.content.decode()
    changed = client.post(
        reverse("shop:basket_line_update", args=[lantern.pk]), {"quantity": "3"}, follow=True
    )
    assert "no longer in your basket" in changed.content.decode()
    assert lines_of(basket_id=client.session["basket_id"]) == {}

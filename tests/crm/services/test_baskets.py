"""The basket's services: lines, merging at sign-in, and placing the order through the import code."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from crm.models import Basket, BasketLine, BehaviourEvent, Order, OrderLine
from crm.selectors.baskets import basket_item_count, basket_summary
from crm.selectors.privacy import customer_data_export
from crm.services.baskets import (
    BASKET_LINE_MAX_QUANTITY,
    BasketError,
    BasketStockError,
    anonymous_session_join,
    basket_create,
    basket_line_add,
    basket_line_remove,
    basket_line_set_quantity,
    basket_merge,
    basket_order_place,
)
from crm.services.ingest import orders_ingest
from crm.services.privacy import retention_apply
from tests.factories import (
    BehaviourEventFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory(external_id="C100", country="France", user=UserFactory(username="basket-shopper"))


def basket_lines(basket):
    return dict(BasketLine.objects.filter(basket=basket).values_list("product__external_id", "quantity"))


def event_kinds(**where):
    return list(BehaviourEvent.objects.filter(**where).order_by("pk").values_list("kind", "product_id"))


# --- Lines -------------------------------------------------------------------------------------


def test_adding_twice_adds_up_and_records_add_to_cart_events(customer):
    product = ProductFactory(external_id="P1")
    basket = basket_create(customer=customer)

    basket_line_add(basket=basket, product=product, quantity=2)
    basket_line_add(basket=basket, product=product, quantity=3)

    assert basket_lines(basket) == {"P1": 5}
    assert event_kinds(customer=customer) == [("add_to_cart", product.pk)] * 2
    assert basket_create(customer=customer) == basket  # one open basket per customer


def test_an_anonymous_basket_records_its_events_under_the_session_key():
    product = ProductFactory()
    basket = basket_create()

    basket_line_add(basket=basket, product=product, quantity=1, session_key="visitor-1")
    basket_line_remove(basket=basket, product=product, session_key="visitor-1")

    events = BehaviourEvent.objects.order_by("pk")
    assert [(event.kind, event.customer_id, event.session_key) for event in events] == [
        ("add_to_cart", None, "visitor-1"),
        ("remove_from_cart", None, "visitor-1"),
    ]


def test_changing_the_quantity_and_zero_removes_the_line(customer):
    lantern, candle = ProductFactory(external_id="L"), ProductFactory(external_id="C")
    basket = basket_create(customer=customer)
    basket_line_add(basket=basket, product=lantern, quantity=1)
    basket_line_add(basket=basket, product=candle, quantity=1)

    basket_line_set_quantity(basket=basket, product=lantern, quantity=7)
    assert basket_line_set_quantity(basket=basket, product=candle, quantity=0) is None

    assert basket_lines(basket) == {"L": 7}
    assert event_kinds(kind="remove_from_cart") == [("remove_from_cart", candle.pk)]


def test_removing_a_product_not_in_the_basket_changes_nothing(customer):
    basket = basket_create(customer=customer)
    assert basket_line_remove(basket=basket, product=ProductFactory()) is False
    assert not BehaviourEvent.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, BASKET_LINE_MAX_QUANTITY + 1, "2", 1.5, True])
def test_a_quantity_out_of_range_or_not_whole_is_refused(customer, quantity):
    basket = basket_create(customer=customer)
    with pytest.raises(BasketError, match="quantity"):
        basket_line_add(basket=basket, product=ProductFactory(), quantity=quantity)
    assert not BasketLine.objects.exists()


def test_a_basket_holds_at_most_999_of_one_product(customer):
    product = ProductFactory()
    basket = basket_create(customer=customer)
    basket_line_add(basket=basket, product=product, quantity=990)
    with pytest.raises(BasketError, match="At most 999"):
        basket_line_add(basket=basket, product=product, quantity=10)
    assert basket_lines(basket) == {product.external_id: 990}


def test_products_not_sold_or_without_enough_stock_are_refused(customer):
    basket = basket_create(customer=customer)
    with pytest.raises(BasketStockError, match="not sold any more"):
        basket_line_add(basket=basket, product=ProductFactory(active=False), quantity=1)
    with pytest.raises(BasketStockError, match="out of stock"):
        basket_line_add(basket=basket, product=ProductFactory(stock=0), quantity=1)
    # an import stores 0.00 where its file gave no price: such a product is not sold for nothing
    with pytest.raises(BasketStockError, match="has no price yet"):
        basket_line_add(basket=basket, product=ProductFactory(price=Decimal("0.00")), quantity=1)
    scarce = ProductFactory(stock=2)
    with pytest.raises(BasketStockError, match="Only 2 of"):
        basket_line_add(basket=basket, product=scarce, quantity=3)
    basket_line_add(basket=basket, product=scarce, quantity=2)
    with pytest.raises(BasketStockError, match="Only 2 of"):
        basket_line_set_quantity(basket=basket, product=scarce, quantity=3)
    assert basket_lines(basket) == {scarce.external_id: 2}


def test_an_ordered_basket_cannot_change(customer):
    product = ProductFactory()
    basket = basket_create(customer=customer)
    basket_line_add(basket=basket, product=product, quantity=1)
    basket_order_place(basket=basket)
    with pytest.raises(BasketError, match="ordered"):
        basket_line_add(basket=basket, product=product, quantity=1)


def test_the_summary_has_current_prices_and_totals(customer):
    basket = basket_create(customer=customer)
    basket_line_add(basket=basket, product=ProductFactory(price=Decimal("2.50")), quantity=3)
    basket_line_add(basket=basket, product=ProductFactory(price=Decimal("10.00")), quantity=1)

    summary = basket_summary(basket=basket)

    assert [line.amount for line in summary.lines] == [Decimal("7.50"), Decimal("10.00")]
    assert summary.item_count == 4
    assert summary.total == Decimal("17.50")
    assert basket_item_count(user=customer.user) == 4
    assert basket_summary(basket=None).total == 0


# --- Merging at sign-in ------------------------------------------------------------------------


def test_an_anonymous_basket_joins_the_customers_basket_and_quantities_add_up(customer):
    lantern, candle, cup = (ProductFactory(external_id=code) for code in ("L", "C", "U"))
    own = basket_create(customer=customer)
    basket_line_add(basket=own, product=lantern, quantity=1)
    basket_line_add(basket=own, product=cup, quantity=998)
    anonymous = basket_create()
    basket_line_add(basket=anonymous, product=lantern, quantity=2)
    basket_line_add(basket=anonymous, product=candle, quantity=1)
    basket_line_add(basket=anonymous, product=cup, quantity=5)

    merged = basket_merge(basket=anonymous, customer=customer)

    assert merged == own
    assert basket_lines(own) == {"L": 3, "C": 1, "U": BASKET_LINE_MAX_QUANTITY}
    assert not Basket.objects.filter(pk=anonymous.pk).exists()


def test_an_anonymous_basket_becomes_the_basket_of_a_customer_without_one(customer):
    anonymous = basket_create()
    basket_line_add(basket=anonymous, product=ProductFactory(external_id="L"), quantity=2)

    merged = basket_merge(basket=anonymous, customer=customer)

    assert merged.pk == anonymous.pk
    assert merged.customer == customer
    assert basket_lines(merged) == {"L": 2}


def test_signing_in_joins_the_basket_and_the_anonymous_events(customer):
    product = ProductFactory()
    anonymous = basket_create()
    basket_line_add(basket=anonymous, product=product, quantity=1, session_key="visitor-1")
    BehaviourEventFactory(customer=None, session_key="visitor-1", product=product, kind="view")
    someone_else = BehaviourEventFactory(customer=None, session_key="visitor-2", product=product)

    assert anonymous_session_join(user=customer.user, basket_id=anonymous.pk, session_key="visitor-1")

    assert basket_lines(Basket.objects.get(customer=customer, status="open")) == {product.external_id: 1}
    assert sorted(event_kinds(customer=customer)) == [("add_to_cart", product.pk), ("view", product.pk)]
    someone_else.refresh_from_db()
    assert someone_else.customer is None


def test_a_login_without_a_customer_leaves_the_anonymous_basket_alone():
    anonymous = basket_create()
    basket_line_add(basket=anonymous, product=ProductFactory(), quantity=1, session_key="visitor-1")
    staff = UserFactory(is_staff=True)

    assert anonymous_session_join(user=staff, basket_id=anonymous.pk, session_key="visitor-1") is False

    anonymous.refresh_from_db()
    assert anonymous.customer is None
    assert BehaviourEvent.objects.get().customer is None


def test_signing_in_never_takes_another_customers_basket(customer):
    other = CustomerFactory()
    theirs = basket_create(customer=other)
    basket_line_add(basket=theirs, product=ProductFactory(), quantity=1)

    anonymous_session_join(user=customer.user, basket_id=theirs.pk, session_key="")

    theirs.refresh_from_db()
    assert theirs.customer == other
    assert not Basket.objects.filter(customer=customer).exists()


# --- Placing the order ------------------------------------------------------------------------


def filled_basket(customer, *products_and_quantities):
    basket = basket_create(customer=customer)
    for product, quantity in products_and_quantities:
        basket_line_add(basket=basket, product=product, quantity=quantity)
    return basket


def order_line_rows(order):
    return list(
        OrderLine.objects.filter(order=order)
        .order_by("line_number")
        .values("line_number", "product_id", "item_code", "item_name", "quantity", "unit_price", "discount")
    )


def test_placing_writes_the_order_as_an_imported_order_is_written(customer):
    lantern = ProductFactory(external_id="71053", name="White lantern", price=Decimal("3.39"))
    holder = ProductFactory(external_id="85123A", name="Heart holder", price=Decimal("2.55"))
    basket = filled_basket(customer, (lantern, 2), (holder, 6))

    placement = basket_order_place(basket=basket)

    order = placement.order
    assert placement.created
    assert (order.external_id, order.customer, order.channel, order.status, order.country) == (
        f"WEB-{basket.pk}",
        customer,
        Order.Channel.WEB,
        Order.Status.PLACED,
        "France",
    )
    assert abs(order.placed_at - timezone.now()) < dt.timedelta(minutes=1)
    # The same lines through the API's order ingest: the shape is the same.
    orders_ingest(
        orders=[
            {
                "order_id": "API-1",
                "customer_id": customer.external_id,
                "ordered_at": timezone.now(),
                "country": customer.country,
                "lines": [
                    {
                        "product_id": "71053",
                        "product_name": "White lantern",
                        "quantity": 2,
                        "unit_price": "3.39",
                    },
                    {
                        "product_id": "85123A",
                        "product_name": "Heart holder",
                        "quantity": 6,
                        "unit_price": "2.55",
                    },
                ],
            }
        ]
    )
    imported = Order.objects.get(external_id="API-1")
    assert order_line_rows(order) == order_line_rows(imported)
    assert (imported.customer, imported.country) == (order.customer, order.country)
    lantern.refresh_from_db()
    assert (lantern.name, lantern.price, lantern.category_id) == (
        "White lantern",
        Decimal("3.39"),
        lantern.category_id,
    )
    basket.refresh_from_db()
    assert (basket.status, basket.order) == (Basket.Status.ORDERED, order)
    assert basket_item_count(user=customer.user) == 0


def test_placing_lowers_tracked_stock_and_records_one_purchase_per_product(customer):
    tracked = ProductFactory(stock=5)
    untracked = ProductFactory(stock=None)
    basket = filled_basket(customer, (tracked, 3), (untracked, 2))

    basket_order_place(basket=basket)

    tracked.refresh_from_db()
    untracked.refresh_from_db()
    assert (tracked.stock, untracked.stock) == (2, None)
    purchases = BehaviourEvent.objects.filter(kind=BehaviourEvent.Kind.PURCHASE, customer=customer)
    assert sorted(purchases.values_list("product_id", flat=True)) == sorted([tracked.pk, untracked.pk])


def test_placing_twice_gives_the_same_order(customer):
    basket = filled_basket(customer, (ProductFactory(stock=5), 2))

    first = basket_order_place(basket=basket)
    again = basket_order_place(basket=basket)

    assert again.order == first.order
    assert again.created is False
    assert Order.objects.count() == 1
    assert BehaviourEvent.objects.filter(kind="purchase").count() == 1
    assert first.order.lines.get().product.stock == 3


def test_placing_never_takes_over_an_imported_order_holding_the_baskets_id(customer):
    # given: an order of another customer imported under the id the shop would give this basket
    lantern = ProductFactory(external_id="71053", name="White lantern", price=Decimal("3.39"), stock=10)
    basket = filled_basket(customer, (lantern, 2))
    orders_ingest(
        orders=[
            {
                "order_id": f"WEB-{basket.pk}",
                "customer_id": "12346",
                "ordered_at": "2024-05-01T10:00:00Z",
                "country": "Iceland",
                "lines": [
                    {
                        "product_id": "22633",
                        "product_name": "Hand warmer",
                        "quantity": 6,
                        "unit_price": "1.85",
                    }
                ],
            }
        ]
    )
    imported = Order.objects.get(external_id=f"WEB-{basket.pk}")

    # when
    placement = basket_order_place(basket=basket)
    again = basket_order_place(basket=basket)

    # then: the shop wrote an order of its own, and a retry finds that one
    order = placement.order
    assert placement.created
    assert order.pk != imported.pk
    assert order.external_id == f"WEB-{basket.pk}-2"
    assert (order.customer, order.channel, order.status) == (customer, Order.Channel.WEB, Order.Status.PLACED)
    assert list(order.lines.values_list("item_code", "quantity")) == [("71053", 2)]
    assert (again.order, again.created) == (order, False)
    imported.refresh_from_db()
    assert (imported.customer.external_id, imported.channel, imported.country) == (
        "12346",
        Order.Channel.IMPORT,
        "Iceland",
    )
    assert list(imported.lines.values_list("item_code", "quantity")) == [("22633", 6)]
    lantern.refresh_from_db()
    assert lantern.stock == 8


def test_a_retry_finds_the_baskets_own_order_only(customer):
    basket = filled_basket(customer, (ProductFactory(stock=5), 2))
    order = basket_order_place(basket=basket).order
    # The order went away since (e.g. kept no longer), and another order holds the id it had.
    order.delete()
    OrderFactory(external_id=f"WEB-{basket.pk}", channel=Order.Channel.WEB)

    with pytest.raises(BasketError, match="not kept any more"):
        basket_order_place(basket=basket)


def test_an_id_taken_between_choosing_it_and_writing_refuses_the_placing(customer, monkeypatch):
    product = ProductFactory(stock=5)
    basket = filled_basket(customer, (product, 2))
    imported = OrderLineFactory(order__external_id="API-7", item_code="IMPORTED").order
    # As if an import wrote API-7 just after the shop found it free.
    monkeypatch.setattr("crm.services.baskets.web_order_id", lambda basket: "API-7")

    with pytest.raises(BasketError, match="place it again"):
        basket_order_place(basket=basket)

    assert list(Order.objects.values_list("pk", "customer_id")) == [(imported.pk, imported.customer_id)]
    assert list(imported.lines.values_list("item_code", flat=True)) == ["IMPORTED"]
    product.refresh_from_db()
    basket.refresh_from_db()
    assert (product.stock, basket.status) == (5, Basket.Status.OPEN)


def test_not_enough_stock_refuses_the_order_and_writes_nothing(customer):
    plenty = ProductFactory(stock=10)
    scarce = ProductFactory(stock=3, name="Last lanterns")
    basket = filled_basket(customer, (plenty, 1), (scarce, 3))
    scarce.stock = 1  # sold elsewhere since it went into the basket
    scarce.save()

    with pytest.raises(BasketStockError, match="Only 1 of Last lanterns left"):
        basket_order_place(basket=basket)

    assert not Order.objects.exists()
    plenty.refresh_from_db()
    assert plenty.stock == 10
    basket.refresh_from_db()
    assert basket.status == Basket.Status.OPEN
    assert not BehaviourEvent.objects.filter(kind="purchase").exists()


def test_a_product_withdrawn_since_it_was_added_refuses_the_order(customer):
    product = ProductFactory()
    basket = filled_basket(customer, (product, 1))
    product.active = False
    product.save()
    with pytest.raises(BasketStockError, match="not sold any more"):
        basket_order_place(basket=basket)
    assert not Order.objects.exists()


def test_an_empty_or_anonymous_basket_cannot_be_placed(customer):
    with pytest.raises(BasketError, match="empty"):
        basket_order_place(basket=basket_create(customer=customer))
    anonymous = basket_create()
    basket_line_add(basket=anonymous, product=ProductFactory(), quantity=1)
    with pytest.raises(BasketError, match="Sign in"):
        basket_order_place(basket=anonymous)
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_shoppers_cannot_both_buy_the_last_unit():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite runs one writing transaction at a time anyway)")
    last = ProductFactory(stock=1, name="Last lantern")
    first = filled_basket(CustomerFactory(), (last, 1))
    second = filled_basket(CustomerFactory(), (last, 1))
    outcome = {}

    def place_second():
        try:
            outcome["placement"] = basket_order_place(basket=second)
        except BasketError as refusal:
            outcome["refusal"] = refusal
        finally:
            connection.close()

    with transaction.atomic():
        # The first shopper's order is written but not yet committed when the second one places theirs.
        basket_order_place(basket=first)
        other = threading.Thread(target=place_second)
        other.start()
        other.join(timeout=1.5)
        assert other.is_alive(), "the second placing did not wait for the first one's lock"
    other.join(timeout=30)

    assert isinstance(outcome.get("refusal"), BasketStockError), outcome
    assert "Last lantern is out of stock" in str(outcome["refusal"])
    last.refresh_from_db()
    assert last.stock == 0
    assert Order.objects.count() == 1
    second.refresh_from_db()
    assert second.status == Basket.Status.OPEN


# --- Data rights ------------------------------------------------------------------------------


def test_baskets_are_in_the_customers_data_export(customer):
    product = ProductFactory(external_id="L", name="Lantern")
    basket_order_place(basket=filled_basket(customer, (product, 2)))
    basket_line_add(basket=basket_create(customer=customer), product=product, quantity=1)

    baskets = customer_data_export(customer=customer)["baskets"]

    assert [(basket["status"], basket["order_id"]) for basket in baskets] == [
        ("ordered", baskets[0]["order_id"]),
        ("open", None),
    ]
    assert baskets[0]["order_id"].startswith("WEB-")
    assert baskets[1]["lines"][0] | {"added_at": None} == {
        "product_id": "L",
        "product_name": "Lantern",
        "quantity": 1,
        "added_at": None,
    }


@override_settings(SESSION_COOKIE_AGE=3600)
def test_retention_deletes_anonymous_baskets_older_than_a_session(customer):
    stale, fresh = basket_create(), basket_create()
    own = basket_create(customer=customer)
    Basket.objects.filter(pk__in=[stale.pk, own.pk]).update(updated_at=timezone.now() - dt.timedelta(hours=2))

    counts = retention_apply()

    assert counts["baskets_anonymous_deleted"] == 1
    assert set(Basket.objects.values_list("pk", flat=True)) == {fresh.pk, own.pk}

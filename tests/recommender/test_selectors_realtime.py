"""The served lists react to what the shopper just did (recent views, the open basket), blended into the
stored rows when they are read."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Basket, BasketLine, BehaviourEvent, Order
from recommender.ml.discovery import DISCOVERY_PLACES
from recommender.models import ModelVersion, Recommendation
from recommender.selectors import (
    basket_completion_rows,
    recommendation_rows_for_customer,
    recommendation_rows_for_session,
)
from tests.factories import (
    BasketFactory,
    BasketLineFactory,
    BehaviourEventFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from tests.recommender.realtime_shop import served_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(settings):
    """The neighbours get most of the blend here, so the tests are about the mechanism, not the weight."""
    settings.RECOMMENDER_REALTIME_WEIGHT = 0.8
    return served_shop()


def product_ids(rows):
    return [row["product_id"] for row in rows]


def test_without_recent_activity_the_stored_list_is_served_as_stored(served):
    rows = recommendation_rows_for_customer(customer=served["customer"], limit=10)
    assert product_ids(rows) == [product.pk for product in served["candles"]]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4]


def test_without_recent_activity_the_list_is_one_query_and_with_some_the_signals_are_read(served, settings):
    customer = served["customer"]
    OrderLineFactory(order=OrderFactory(customer=customer), product=served["candles"][0])
    with CaptureQueriesContext(connection) as quiet:
        recommendation_rows_for_customer(customer=customer, limit=10)
    BehaviourEventFactory(customer=customer, product=served["chair"], kind=BehaviourEvent.Kind.VIEW)
    with CaptureQueriesContext(connection) as active:
        rows = recommendation_rows_for_customer(customer=customer, limit=10)

    # the stored rows' query also says that there is nothing recent: no query of the signals
    assert len(quiet.captured_queries) == 1
    # with a recent view: the rows, the signals (the basket and the events: one union where the
    # database takes it), their neighbours, the weight of never-bought products the version chose
    # (RECOMMENDER_NEW_ITEM_WEIGHT "auto") and which of those products the customer bought (for the
    # discovery rules: their orders, then those orders' lines)
    signal_queries = 1 if connection.features.supports_slicing_ordering_in_compound else 2
    assert len(active.captured_queries) == 5 + signal_queries
    # with a weight set for every version, that one is not read
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = 2.0
    with CaptureQueriesContext(connection) as fixed:
        recommendation_rows_for_customer(customer=customer, limit=10)
    assert len(fixed.captured_queries) == 4 + signal_queries
    assert rows[0]["reason"] == "Because you viewed Garden chair"


def test_a_view_brings_up_what_goes_with_it_naming_the_viewed_product(served):
    # given the shopper just looked at the garden chair
    BehaviourEventFactory(customer=served["customer"], product=served["chair"], kind=BehaviourEvent.Kind.VIEW)

    # when their list is read
    rows = recommendation_rows_for_customer(customer=served["customer"], limit=4)

    # then the chair's neighbours lead it, with the reason naming the chair, ranked 1..4
    assert product_ids(rows)[:2] == [served["parasol"].pk, served["cushion"].pk]
    assert rows[0]["reason"] == "Because you viewed Garden chair"
    assert rows[0]["product__name"] == "Parasol" and rows[0]["model_version_id"] is not None
    assert [row["rank"] for row in rows] == [1, 2, 3, 4]
    # the stored list's best product stays, with its stored reason
    assert rows[2]["product_id"] == served["candles"][0].pk and rows[2]["reason"] == "You buy this regularly"


def test_activity_older_than_the_window_or_of_other_kinds_changes_nothing(served, settings):
    settings.RECOMMENDER_REALTIME_WINDOW_MINUTES = 30
    customer = served["customer"]
    BehaviourEventFactory(
        customer=customer, product=served["chair"], at=timezone.now() - dt.timedelta(hours=1)
    )
    BehaviourEventFactory(
        customer=customer, product=served["chair"], kind=BehaviourEvent.Kind.RECOMMENDATION_IMPRESSION
    )
    rows = recommendation_rows_for_customer(customer=customer, limit=10)
    assert product_ids(rows) == [product.pk for product in served["candles"]]


def test_basket_completion_leaves_out_the_basket_and_names_it(served):
    rows = basket_completion_rows(
        basket=[(served["candles"][1].pk, "Candle"), (served["chair"].pk, "Garden chair")],
        customer=served["customer"],
        limit=5,
    )
    ids = product_ids(rows)
    assert served["chair"].pk not in ids and served["candles"][1].pk not in ids
    assert ids[0] == served["parasol"].pk
    assert rows[0]["reason"] == "Goes with Garden chair in your basket"


def test_an_anonymous_session_gets_the_popular_list_re_ranked_by_its_own_views(served):
    assert product_ids(recommendation_rows_for_session(session_key="s1", limit=5)) == [
        served["candles"][0].pk,
        served["parasol"].pk,
    ]
    BehaviourEvent.objects.create(
        session_key="s1", product=served["cushion"], kind=BehaviourEvent.Kind.VIEW, at=timezone.now()
    )
    BehaviourEvent.objects.create(
        session_key="s2", product=served["chair"], kind=BehaviourEvent.Kind.VIEW, at=timezone.now()
    )
    # s1 viewed a cushion (no neighbours): unchanged; s2's chair view is not s1's
    assert (
        product_ids(recommendation_rows_for_session(session_key="s1", limit=5))[0] == served["candles"][0].pk
    )
    rows = recommendation_rows_for_session(session_key="s2", limit=5)
    assert product_ids(rows)[:2] == [served["parasol"].pk, served["cushion"].pk]


def test_the_open_basket_counts_however_old_and_its_products_are_left_out(served, settings):
    settings.RECOMMENDER_REALTIME_WINDOW_MINUTES = 1
    basket = BasketFactory(customer=served["customer"])
    BasketLineFactory(basket=basket, product=served["candles"][0])
    BasketLineFactory(basket=basket, product=served["chair"])
    Basket.objects.filter(pk=basket.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))

    rows = recommendation_rows_for_customer(customer=served["customer"], limit=4)

    ids = product_ids(rows)
    assert served["candles"][0].pk not in ids and served["chair"].pk not in ids
    assert rows[0]["product_id"] == served["parasol"].pk
    assert rows[0]["reason"] == "Goes with Garden chair in your basket"

    # an ordered basket is no longer a basket
    Basket.objects.filter(pk=basket.pk).update(status=Basket.Status.ORDERED)
    assert served["candles"][0].pk in product_ids(
        recommendation_rows_for_customer(customer=served["customer"])
    )


def test_after_a_view_the_list_still_holds_a_product_the_customer_never_bought(served, settings):
    settings.RECOMMENDER_MIN_NEW_ITEMS = 1
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = 1.0  # the minimum alone brings the lamp up
    customer = served["customer"]
    order = OrderFactory(customer=customer)
    version = ModelVersion.objects.get()
    # the stored list: the candles and eight more products they bought, then one they never bought
    more = ProductFactory.create_batch(8, name="Mug")
    for rank, product in enumerate(more, start=5):
        Recommendation.objects.create(
            model_version=version, customer=customer, product=product, rank=rank, score=0.45 - rank / 100
        )
    lamp = ProductFactory(name="Lamp")
    Recommendation.objects.create(
        model_version=version, customer=customer, product=lamp, rank=13, score=0.2, reason="Picked for you"
    )
    # they bought all of those but the lamp, and the parasol and cushion that go with the garden chair
    for product in [*served["candles"], *more, served["parasol"], served["cushion"]]:
        OrderLineFactory(order=order, product=product)
    BehaviourEventFactory(customer=customer, product=served["chair"], kind=BehaviourEvent.Kind.VIEW)

    rows = recommendation_rows_for_customer(customer=customer, limit=DISCOVERY_PLACES)

    # the view's neighbours lead, and the first places, what the shop shows, keep the never-bought lamp
    assert product_ids(rows)[:2] == [served["parasol"].pk, served["cushion"].pk]
    assert lamp.pk in product_ids(rows)
    # a shorter list is the start of that one, not a list with the lamp moved into its few places
    assert product_ids(recommendation_rows_for_customer(customer=customer, limit=2)) == product_ids(rows)[:2]
    settings.RECOMMENDER_MIN_NEW_ITEMS = 0
    rows = recommendation_rows_for_customer(customer=customer, limit=DISCOVERY_PLACES)
    assert lamp.pk not in product_ids(rows)


def test_a_cancelled_order_bought_nothing_for_the_discovery_rules(served, settings):
    settings.RECOMMENDER_MIN_NEW_ITEMS = 1
    customer = served["customer"]
    OrderLineFactory(order=OrderFactory(customer=customer), product=served["candles"][0])
    cancelled = OrderFactory(customer=customer, status=Order.Status.CANCELLED)
    for product in (served["parasol"], served["cushion"]):
        OrderLineFactory(order=cancelled, product=product)
    lamp = ProductFactory(name="Lamp")
    Recommendation.objects.create(
        model_version=ModelVersion.objects.get(),
        customer=customer,
        product=lamp,
        rank=5,
        score=0.2,
        reason="Picked for you",
    )
    BehaviourEventFactory(customer=customer, product=served["chair"], kind=BehaviourEvent.Kind.VIEW)

    rows = recommendation_rows_for_customer(customer=customer, limit=2)

    # the parasol and the cushion are still new to them: no place goes to the lamp
    assert product_ids(rows) == [served["parasol"].pk, served["cushion"].pk]


def test_with_the_weight_auto_the_list_is_ordered_by_the_weight_its_version_chose(served, settings):
    # given a customer who bought the candles, a never-bought lamp stored below them, and a view
    settings.RECOMMENDER_MIN_NEW_ITEMS = 0
    settings.RECOMMENDER_REALTIME_WEIGHT = 0.1
    customer = served["customer"]
    order = OrderFactory(customer=customer)
    for product in served["candles"]:
        OrderLineFactory(order=order, product=product)
    lamp = ProductFactory(name="Lamp")
    version = ModelVersion.objects.get()
    Recommendation.objects.create(
        model_version=version, customer=customer, product=lamp, rank=5, score=0.2, reason="Picked for you"
    )
    BehaviourEventFactory(customer=customer, product=served["chair"], kind=BehaviourEvent.Kind.VIEW)
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"

    # when the version chose a weight that lifts the never-bought lamp, and when it chose none
    version.params = {**version.params, ModelVersion.NEW_ITEM_WEIGHT_PARAM: 10.0}
    version.save(update_fields=["params"])
    lifted = product_ids(recommendation_rows_for_customer(customer=customer, limit=10))
    version.params = {**version.params, ModelVersion.NEW_ITEM_WEIGHT_PARAM: 1.0}
    version.save(update_fields=["params"])
    plain = product_ids(recommendation_rows_for_customer(customer=customer, limit=10))

    # then the version's weight orders the list: the lamp first with 10, below the candles with 1
    assert lifted.index(lamp.pk) < min(lifted.index(candle.pk) for candle in served["candles"])
    assert plain.index(lamp.pk) > max(plain.index(candle.pk) for candle in served["candles"])


def test_a_product_taken_out_of_the_basket_no_longer_leads_the_list_as_in_the_basket(served):
    """The add's event outlived the removal: the list said "Goes with Garden chair in your basket" for
    an empty basket."""
    from crm.services.baskets import basket_create, basket_line_add, basket_line_remove

    customer, chair = served["customer"], served["chair"]
    stored = product_ids(recommendation_rows_for_customer(customer=customer, limit=4))
    basket = basket_create(customer=customer)
    basket_line_add(basket=basket, product=chair, quantity=1)
    assert recommendation_rows_for_customer(customer=customer, limit=4)[0]["reason"] == (
        "Goes with Garden chair in your basket"
    )

    basket_line_remove(basket=basket, product=chair)

    rows = recommendation_rows_for_customer(customer=customer, limit=4)
    assert product_ids(rows) == stored
    assert not any("Garden chair" in row["reason"] for row in rows)

    # added again after the removal: it counts again
    basket_line_add(basket=basket, product=chair, quantity=1)
    basket_line_remove(basket=basket, product=chair)
    basket_line_add(basket=basket, product=chair, quantity=1)
    BasketLine.objects.filter(basket=basket).delete()  # only the events say it now
    assert recommendation_rows_for_customer(customer=customer, limit=4)[0]["reason"] == (
        "Goes with Garden chair in your basket"
    )

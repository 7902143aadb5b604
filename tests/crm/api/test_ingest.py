import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from crm.models import BehaviourEvent, Customer, Order, OrderLine, Product
from crm.services.ingest import INGEST_MAX_ORDERS, events_ingest, orders_ingest
from crm.services.privacy import anonymous_customer
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

ORDERS = [
    {
        "order_id": "536365",
        "customer_id": "17850",
        "ordered_at": "2010-12-01T08:26:00+00:00",
        "country": "United Kingdom",
        "lines": [
            {
                "product_id": "85123A",
                "product_name": "Heart holder",
                "category": "Home/Candles",
                "quantity": 6,
                "unit_price": "2.55",
            },
            {"product_id": "71053", "product_name": "White lantern", "quantity": 6, "unit_price": "3.39"},
        ],
    },
    {
        "order_id": "536366",
        "customer_id": None,
        "ordered_at": "2010-12-01T08:28:00Z",
        "lines": [
            {"product_id": "22633", "product_name": "Hand warmer", "quantity": 6, "unit_price": "1.85"}
        ],
    },
]


def orders_with(change):
    orders = copy.deepcopy(ORDERS)
    change(orders)
    return orders


def database_state():
    return (
        list(
            Order.objects.order_by("external_id").values_list(
                "external_id", "customer__external_id", "placed_at"
            )
        ),
        list(
            OrderLine.objects.order_by("order__external_id", "line_number").values_list(
                "order__external_id", "line_number", "product__external_id", "quantity", "unit_price"
            )
        ),
        list(Product.objects.order_by("external_id").values_list("external_id", "name", "category__path")),
        Customer.objects.count(),
    )


# --- Orders ---------------------------------------------------------------------------------------


def test_orders_are_written_with_lines_customers_and_products(staff_client):
    response = staff_client.post("/api/ingest/orders/", ORDERS, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["orders"], response.json()["lines"]) == (2, 3)
    assert response.json()["report"]["orders"]["created"] == 2
    orders, lines, products, customer_count = database_state()
    assert [(order_id, customer) for order_id, customer, _ in orders] == [
        ("536365", "17850"),
        ("536366", None),
    ]
    assert [(order, number, product, quantity) for order, number, product, quantity, _ in lines] == [
        ("536365", 1, "85123A", 6),
        ("536365", 2, "71053", 6),
        ("536366", 1, "22633", 6),
    ]
    assert ("85123A", "Heart holder", "Home/Candles") in products
    assert customer_count == 1
    detail = staff_client.get("/api/orders/536365/").json()
    assert detail["total"] == "35.64"


def test_sending_the_same_orders_again_changes_nothing(staff_client):
    staff_client.post("/api/ingest/orders/", ORDERS, format="json")
    before = database_state()

    again = staff_client.post("/api/ingest/orders/", ORDERS, format="json")

    assert again.status_code == 200
    assert again.json()["report"]["orders"] == {"created": 0, "updated": 0, "unchanged": 2, "deleted": 0}
    assert again.json()["report"]["order_lines"]["created"] == 0
    assert database_state() == before


def test_a_corrected_order_replaces_its_lines(staff_client):
    staff_client.post("/api/ingest/orders/", ORDERS, format="json")

    def fewer_lines(orders):
        orders[0]["lines"] = orders[0]["lines"][:1]
        orders[0]["lines"][0]["quantity"] = 12

    staff_client.post("/api/ingest/orders/", orders_with(fewer_lines), format="json")

    assert list(OrderLine.objects.filter(order__external_id="536365").values_list("quantity", flat=True)) == [
        12
    ]


@pytest.mark.parametrize(
    ("change", "index", "field", "words"),
    [
        (lambda o: o[1]["lines"][0].update(unit_price="cheap"), 1, "lines[0].unit_price", "valid number"),
        (lambda o: o[0]["lines"][1].pop("quantity"), 0, "lines[1].quantity", "required"),
        (lambda o: o[0].update(ordered_at="yesterday"), 0, "ordered_at", "format"),
        (lambda o: o[0].update(lines=[]), 0, "lines", "empty"),
        (lambda o: o[1].pop("order_id"), 1, "order_id", "required"),
        (lambda o: o[1].update(order_id="536365"), 1, "order_id", "also item 0"),
        (lambda o: o[0].update(customer_id="X" * 65), 0, "customer_id", "64 characters"),
        # Caught by the import service, and named by item and line all the same.
        (lambda o: o[1]["lines"][0].update(unit_price="-1.00"), 1, "lines[0].unit_price", "negative price"),
        # dates no order was placed on, which moved segments, forecasts and the dashboard to them
        (lambda o: o[1].update(ordered_at="0001-01-01T00:00:00Z"), 1, "ordered_at", "before 1970"),
        (lambda o: o[1].update(ordered_at="1500-06-01T00:00:00Z"), 1, "ordered_at", "before 1970"),
        (lambda o: o[0].update(ordered_at="2300-01-01T00:00:00Z"), 0, "ordered_at", "more than a day ahead"),
        (
            lambda o: o[0].update(ordered_at=(timezone.now() + dt.timedelta(days=2)).isoformat()),
            0,
            "ordered_at",
            "more than a day ahead",
        ),
    ],
)
def test_a_bad_order_is_named_by_index_and_field_and_nothing_is_written(
    staff_client, change, index, field, words
):
    response = staff_client.post("/api/ingest/orders/", orders_with(change), format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(error["index"], error["field"]) for error in errors] == [(index, field)]
    assert words in errors[0]["message"]
    assert Order.objects.count() == 0
    assert Customer.objects.count() == 0


def test_errors_in_several_orders_are_all_reported(staff_client):
    def two_bad(orders):
        orders[0]["lines"][1]["unit_price"] = "x"
        orders[1]["ordered_at"] = "soon"

    errors = staff_client.post("/api/ingest/orders/", orders_with(two_bad), format="json").json()["errors"]

    assert [(error["index"], error["field"]) for error in errors] == [
        (0, "lines[1].unit_price"),
        (1, "ordered_at"),
    ]


@pytest.mark.parametrize(
    ("payload", "words"),
    [({"order_id": "1"}, "JSON list"), ([], "empty"), (["not an order"], "dictionary")],
)
def test_a_payload_that_is_not_a_list_of_orders_is_a_400(staff_client, payload, words):
    response = staff_client.post("/api/ingest/orders/", payload, format="json")

    assert response.status_code == 400
    assert words in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("endpoint", ["/api/ingest/orders/", "/api/ingest/events/"])
def test_a_body_that_is_not_json_gets_the_documented_error_shape(staff_client, endpoint):
    response = staff_client.generic("POST", endpoint, "PAR1 not json", content_type="application/json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["index"] is None
    assert "not valid JSON" in error["message"]


def test_a_batch_over_the_limit_is_refused_whole(staff_client):
    orders = [{**ORDERS[1], "order_id": f"B{number}"} for number in range(INGEST_MAX_ORDERS + 1)]

    response = staff_client.post("/api/ingest/orders/", orders, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": None, "field": "", "message": f"At most {INGEST_MAX_ORDERS} orders per request; got 1001."}
    ]
    assert Order.objects.count() == 0


BIG_LINE = {"product_id": "P1", "quantity": 2147483647, "unit_price": "99999999.9999"}


def _order(*lines: dict) -> list[dict]:
    return [
        {"order_id": "BIG1", "customer_id": None, "ordered_at": "2011-01-01T00:00:00Z", "lines": [*lines]}
    ]


def test_a_line_whose_amount_cannot_be_written_is_refused_naming_it(staff_client):
    """It was written, and the order then answered 500 wherever the API showed it."""
    response = staff_client.post("/api/ingest/orders/", _order(dict(BIG_LINE)), format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["index"], error["field"]) == (0, "lines[0].quantity")
    assert "amount" in error["message"] and "999,999,999,999.99" in error["message"]
    assert Order.objects.count() == 0


def test_an_order_whose_total_cannot_be_written_is_refused_once(staff_client):
    line = {"product_id": "P1", "quantity": 10_000, "unit_price": "60000000"}  # 600,000,000,000.00 each

    response = staff_client.post(
        "/api/ingest/orders/", _order(line, dict(line, product_id="P2")), format="json"
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["index"], error["field"]) == (0, "order_id")
    assert "total" in error["message"] and "999,999,999,999.99" in error["message"]
    assert Order.objects.count() == 0


def test_the_largest_amount_that_can_be_written_is_taken_to_the_last_ten_thousandth(staff_client):
    largest = {"product_id": "P1", "quantity": 10291, "unit_price": "97172286.4639"}  # 999,999,999,999.9949
    a_ten_thousandth = {"product_id": "P2", "quantity": 1, "unit_price": "0.0001"}

    over = staff_client.post("/api/ingest/orders/", _order(largest, a_ten_thousandth), format="json")
    taken = staff_client.post("/api/ingest/orders/", _order(largest), format="json")

    assert over.status_code == 400
    assert [error["field"] for error in over.json()["errors"]] == ["order_id"]
    assert taken.status_code == 200, taken.json()
    order = staff_client.get("/api/orders/BIG1/").json()
    assert (order["total"], order["lines"][0]["amount"]) == ("999999999999.99", "999999999999.99")


def test_orders_ingest_service_maps_import_errors_back_to_items():
    orders = orders_with(lambda o: o[1]["lines"][0].update(quantity="2.5"))

    with pytest.raises(Exception) as caught:
        orders_ingest(orders=orders)

    assert [(error.index, error.field) for error in caught.value.errors] == [(1, "lines[0].quantity")]
    assert "not a whole number" in caught.value.errors[0].message


def test_an_order_placed_in_the_shop_is_refused_by_id_and_stays_the_shoppers(
    staff_client, shopper, shopper_client
):
    # given: the shopper placed their basket in the shop
    lantern = ProductFactory(external_id="71053", name="White lantern", price=Decimal("3.39"), stock=10)
    basket = "/api/baskets/current/"
    basket_id = shopper_client.post(f"{basket}lines/", {"product_id": "71053", "quantity": 3}, format="json")
    basket_id = basket_id.json()["id"]
    placed = shopper_client.post(f"{basket}order/", {"basket_id": basket_id}, format="json")
    assert placed.status_code == 201
    web_order_id = placed.json()["external_id"]

    # when: staff send an order of another customer under the same id, beside a good one
    def same_id(orders):
        orders[1].update(order_id=web_order_id, customer_id="12346")

    response = staff_client.post("/api/ingest/orders/", orders_with(same_id), format="json")

    # then: that order is refused by its id, nothing is written, and the shop's order is the shopper's
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(error["index"], error["field"]) for error in errors] == [(1, "order_id")]
    assert "placed in the shop" in errors[0]["message"] and web_order_id in errors[0]["message"]
    assert list(Order.objects.values_list("external_id", flat=True)) == [web_order_id]
    assert not Customer.objects.filter(external_id__in=["12346", "17850"]).exists()
    order = Order.objects.get()
    assert (order.customer, order.channel) == (shopper, Order.Channel.WEB)
    assert list(order.lines.values_list("item_code", "quantity")) == [("71053", 3)]
    lantern.refresh_from_db()
    assert lantern.stock == 7
    assert [row["external_id"] for row in shopper_client.get("/api/me/orders/").json()["results"]] == [
        web_order_id
    ]
    retried = shopper_client.post(f"{basket}order/", {"basket_id": basket_id}, format="json")
    assert retried.status_code == 200
    assert retried.json() == placed.json()


# --- Events ---------------------------------------------------------------------------------------


@pytest.fixture
def catalogue():
    CustomerFactory(external_id="17850")
    ProductFactory(external_id="85123A")
    ProductFactory(external_id="71053")


EVENTS = [
    {"customer_id": "17850", "product_id": "85123A", "kind": "view", "at": "2024-05-01T10:00:00Z"},
    {"session_key": "abc", "product_id": "71053", "kind": "add_to_cart", "at": "2024-05-01T10:01:00Z"},
    {"session_key": "abc", "kind": "search", "query": "lantern", "at": "2024-05-01T10:02:00Z"},
]


def test_events_are_recorded(staff_client, catalogue):
    response = staff_client.post("/api/ingest/events/", EVENTS, format="json")

    assert response.status_code == 201
    assert response.json() == {"events": 3}
    assert list(
        BehaviourEvent.objects.order_by("at").values_list(
            "customer__external_id", "session_key", "product__external_id", "kind", "query"
        )
    ) == [
        ("17850", "", "85123A", "view", ""),
        (None, "abc", "71053", "add_to_cart", ""),
        (None, "abc", None, "search", "lantern"),
    ]


def test_unknown_ids_are_named_and_no_event_is_written(staff_client, catalogue):
    events = [
        *EVENTS,
        {"customer_id": "NOBODY", "product_id": "GHOST", "kind": "view", "at": "2024-05-01T10:00Z"},
    ]

    response = staff_client.post("/api/ingest/events/", events, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 3, "field": "customer_id", "message": "Unknown customer id 'NOBODY'."},
        {"index": 3, "field": "product_id", "message": "Unknown product id 'GHOST'."},
    ]
    assert BehaviourEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"product_id": "85123A", "kind": "view", "at": "2024-05-01T10:00Z"}, "customer_id"),
        ({"customer_id": "17850", "kind": "view", "at": "2024-05-01T10:00Z"}, "product_id"),
        (
            {"customer_id": "17850", "product_id": "85123A", "kind": "teleport", "at": "2024-05-01T10:00Z"},
            "kind",
        ),
        ({"customer_id": "17850", "product_id": "85123A", "kind": "view", "at": "noon"}, "at"),
        # past the column's range: a 500 from the database before
        ({**EVENTS[0], "model_version_id": 2**63}, "model_version_id"),
        ({**EVENTS[0], "model_version_id": 2**31}, "model_version_id"),
    ],
)
def test_a_bad_event_is_named_by_index_and_field(staff_client, catalogue, event, field):
    response = staff_client.post("/api/ingest/events/", [EVENTS[0], event], format="json")

    assert response.status_code == 400
    assert [(error["index"], error["field"]) for error in response.json()["errors"]] == [(1, field)]
    assert BehaviourEvent.objects.count() == 0


def test_the_record_keeping_erased_customers_orders_takes_no_orders_events_or_consent(
    staff_client, catalogue
):
    """Orders, events and consent were written to it by its id like a real customer's."""
    placeholder = anonymous_customer()
    orders = orders_with(lambda o: o[0].update(customer_id=placeholder.external_id))
    event = {**EVENTS[0], "customer_id": placeholder.external_id}

    ordered = staff_client.post("/api/ingest/orders/", orders, format="json")
    seen = staff_client.post("/api/ingest/events/", [event], format="json")
    consent = staff_client.post(
        f"/api/customers/{placeholder.external_id}/consent/",
        {"channel": "email", "granted": True},
        format="json",
    )

    assert ordered.status_code == 400
    assert [(error["index"], error["field"]) for error in ordered.json()["errors"]] == [(0, "customer_id")]
    assert "erased customers" in ordered.json()["errors"][0]["message"]
    assert seen.status_code == 400 and seen.json()["errors"][0]["field"] == "customer_id"
    assert consent.status_code == 404
    assert not Order.objects.exists() and not BehaviourEvent.objects.exists()
    assert Customer.objects.get(pk=placeholder.pk).email_opt_in is False


def test_an_event_ahead_of_the_servers_clock_is_refused_and_one_within_its_skew_taken(
    staff_client, catalogue
):
    """Events stamped years ahead were taken; the latest ten of a customer are what real-time
    recommendations read, so ten of them left the customer's real activity out until then."""
    ahead = {**EVENTS[0], "at": (timezone.now() + dt.timedelta(minutes=6)).isoformat()}
    skewed = {**EVENTS[0], "at": (timezone.now() + dt.timedelta(minutes=4)).isoformat()}

    refused = staff_client.post("/api/ingest/events/", [EVENTS[0], ahead], format="json")
    taken = staff_client.post("/api/ingest/events/", [skewed], format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"index": 1, "field": "at", "message": "More than 5 minutes ahead of this server's clock."}
    ]
    assert taken.status_code == 201
    assert BehaviourEvent.objects.count() == 1


def test_events_ingest_service_accepts_iso_text(catalogue):
    assert events_ingest(events=EVENTS[:1]) == 1
    assert BehaviourEvent.objects.get().at.isoformat() == "2024-05-01T10:00:00+00:00"


def test_ingest_is_throttled_per_user(staff_client, catalogue):
    rates = {"anon": "1000/min", "user": "1000/min", "ingest": "2/min"}
    with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
        cache.clear()
        statuses = [
            staff_client.post("/api/ingest/events/", EVENTS[:1], format="json").status_code for _ in range(3)
        ]
    cache.clear()

    assert statuses == [201, 201, 429]


def _rest_framework():
    from django.conf import settings

    return settings.REST_FRAMEWORK

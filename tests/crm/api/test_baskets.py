"""/api/baskets/current/: the signed-in shopper's own basket, and nobody else's."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.models import Basket, BehaviourEvent, Order
from tests.crm.api.tokens import api_token_for
from tests.factories import CustomerFactory, ProductFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

BASKET = "/api/baskets/current/"
LINES = "/api/baskets/current/lines/"
ORDER = "/api/baskets/current/order/"


def client_of(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


@pytest.fixture
def shopper():
    return CustomerFactory(external_id="SHOP1", user=UserFactory(username="api-shopper"))


@pytest.fixture
def api(shopper) -> APIClient:
    return client_of(shopper.user)


@pytest.fixture
def lantern():
    return ProductFactory(external_id="71053", name="White lantern", price=Decimal("3.39"), stock=10)


def test_a_shopper_without_a_basket_reads_an_empty_one(api):
    response = api.get(BASKET)

    assert response.status_code == 200
    assert response.json() == {
        "id": None,
        "status": "open",
        "lines": [],
        "item_count": 0,
        "total": "0.00",
        "orderable": False,
    }
    assert not Basket.objects.exists()


def test_adding_lines_answers_the_basket_by_the_retailers_ids(api, shopper, lantern):
    ProductFactory(external_id="22633", name="Hand warmer", price=Decimal("1.85"))

    first = api.post(LINES, {"product_id": "71053", "quantity": 2}, format="json")
    again = api.post(LINES, {"product_id": "71053"}, format="json")
    warmer = api.post(LINES, {"product_id": "22633", "quantity": 4}, format="json")

    assert (first.status_code, again.status_code, warmer.status_code) == (201, 201, 201)
    body = api.get(BASKET).json()
    assert body == warmer.json()
    assert body["id"] == Basket.objects.get(customer=shopper).pk
    assert body["lines"] == [
        {
            "product_id": "71053",
            "name": "White lantern",
            "quantity": 3,
            "unit_price": "3.39",
            "amount": "10.17",
            "orderable": True,
        },
        {
            "product_id": "22633",
            "name": "Hand warmer",
            "quantity": 4,
            "unit_price": "1.85",
            "amount": "7.40",
            "orderable": True,
        },
    ]
    assert (body["item_count"], body["total"], body["orderable"]) == (7, "17.57", True)
    assert BehaviourEvent.objects.filter(kind="add_to_cart", customer=shopper).count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 1}, "product_id"),
        ({"product_id": "", "quantity": 1}, "product_id"),
        ({"product_id": "nope", "quantity": 1}, "product_id"),
        ({"product_id": "71053", "quantity": 0}, "quantity"),
        ({"product_id": "71053", "quantity": 1000}, "quantity"),
        ({"product_id": "71053", "quantity": "2"}, "quantity"),
        ({"product_id": "71053", "quantity": 1.5}, "quantity"),
        ({"product_id": 71053, "quantity": 1}, "product_id"),
    ],
)
def test_bad_input_to_add_is_a_400_naming_the_field(api, lantern, body, field):
    response = api.post(LINES, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Basket.objects.filter(lines__isnull=False).exists()


def test_a_withdrawn_product_is_unknown_to_the_basket(api):
    ProductFactory(external_id="OLD", active=False)
    response = api.post(LINES, {"product_id": "OLD", "quantity": 1}, format="json")
    assert response.status_code == 400
    assert response.json() == {"product_id": ["No product with id 'OLD' in the shop."]}


def test_the_body_must_be_json(api, lantern):
    assert api.post(LINES, {"product_id": "71053", "quantity": "1"}).status_code == 415


def test_more_than_in_stock_is_a_409(api):
    ProductFactory(external_id="RARE", name="Rare vase", stock=2)
    response = api.post(LINES, {"product_id": "RARE", "quantity": 3}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only 2 of Rare vase left in stock."}


def test_changing_and_removing_a_line(api, shopper, lantern):
    ProductFactory(external_id="22633")
    api.post(LINES, {"product_id": "71053", "quantity": 1}, format="json")
    api.post(LINES, {"product_id": "22633", "quantity": 1}, format="json")

    changed = api.patch(f"{LINES}71053/", {"quantity": 5}, format="json")
    removed = api.delete(f"{LINES}22633/")

    assert changed.status_code == 200
    assert [(line["product_id"], line["quantity"]) for line in changed.json()["lines"]] == [
        ("71053", 5),
        ("22633", 1),
    ]
    assert removed.status_code == 204
    # a partial change without a quantity changes nothing
    unchanged = api.patch(f"{LINES}71053/", {}, format="json")
    assert unchanged.status_code == 200
    assert [(line["product_id"], line["quantity"]) for line in unchanged.json()["lines"]] == [("71053", 5)]
    zero = api.patch(f"{LINES}71053/", {"quantity": 0}, format="json")
    assert zero.status_code == 200
    assert zero.json()["lines"] == []
    assert BehaviourEvent.objects.filter(kind="remove_from_cart", customer=shopper).count() == 2
    assert api.delete(f"{LINES}22633/").status_code == 404
    assert api.patch(f"{LINES}nope/", {"quantity": 1}, format="json").status_code == 404


@pytest.mark.parametrize("quantity", [-1, 1000, "3", None, True])
def test_a_bad_quantity_on_a_line_is_a_400(api, lantern, quantity):
    api.post(LINES, {"product_id": "71053", "quantity": 2}, format="json")
    response = api.patch(f"{LINES}71053/", {"quantity": quantity}, format="json")
    assert response.status_code == 400
    assert "quantity" in response.json()


def test_placing_the_order_once_and_a_retry(api, shopper, lantern):
    basket_id = api.post(LINES, {"product_id": "71053", "quantity": 3}, format="json").json()["id"]

    placed = api.post(ORDER, {"basket_id": basket_id}, format="json")
    retried = api.post(ORDER, {"basket_id": basket_id}, format="json")
    empty = api.post(ORDER, {}, format="json")

    assert placed.status_code == 201
    order = placed.json()
    assert order["external_id"] == f"WEB-{basket_id}"
    assert (order["customer_id"], order["channel"], order["status"], order["total"]) == (
        "SHOP1",
        "web",
        "placed",
        "10.17",
    )
    assert [(line["product_id"], line["quantity"], line["unit_price"]) for line in order["lines"]] == [
        ("71053", 3, "3.3900")
    ]
    assert retried.status_code == 200
    assert retried.json() == order
    assert empty.status_code == 400
    assert empty.json() == {"detail": "Your basket is empty."}
    assert Order.objects.count() == 1
    lantern.refresh_from_db()
    assert lantern.stock == 7
    assert api.get("/api/me/orders/").json()["results"][0]["external_id"] == order["external_id"]
    assert BehaviourEvent.objects.filter(kind="purchase", customer=shopper).count() == 1


def test_placing_without_a_basket_id_places_the_open_basket(api, lantern):
    api.post(LINES, {"product_id": "71053", "quantity": 1}, format="json")
    response = api.post(ORDER, format="json")
    assert response.status_code == 201
    assert api.get(BASKET).json()["lines"] == []


def test_not_enough_stock_at_placing_is_a_409(api, lantern):
    api.post(LINES, {"product_id": "71053", "quantity": 3}, format="json")
    lantern.stock = 2
    lantern.save()

    response = api.post(ORDER, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": "Only 2 of White lantern left in stock."}
    assert api.get(BASKET).json()["lines"][0]["orderable"] is False
    assert not Order.objects.exists()


def test_another_shopper_can_neither_see_nor_touch_my_basket(api, lantern):
    mine = api.post(LINES, {"product_id": "71053", "quantity": 2}, format="json").json()["id"]
    other = client_of(CustomerFactory(user=UserFactory(username="other-api-shopper")).user)

    assert other.get(BASKET).json()["lines"] == []
    assert other.patch(f"{LINES}71053/", {"quantity": 9}, format="json").status_code == 404
    assert other.delete(f"{LINES}71053/").status_code == 404
    assert other.post(ORDER, {"basket_id": mine}, format="json").status_code == 404
    assert api.get(BASKET).json()["lines"][0]["quantity"] == 2
    assert not Order.objects.exists()


def test_a_login_without_a_customer_is_told_so(lantern):
    staff = client_of(StaffUserFactory())
    for response in (
        staff.get(BASKET),
        staff.post(LINES, {"product_id": "71053", "quantity": 1}, format="json"),
        staff.patch(f"{LINES}71053/", {"quantity": 1}, format="json"),
        staff.post(ORDER, format="json"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "No customer record is linked to this login."}
    assert not Basket.objects.exists()


def test_signed_out_clients_get_401(lantern):
    assert APIClient().get(BASKET).status_code == 401
    assert APIClient().post(LINES, {"product_id": "71053"}, format="json").status_code == 401


def test_the_schema_documents_the_basket(api):
    staff = client_of(StaffUserFactory())
    paths = staff.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert set(paths["/api/baskets/current/"]) == {"get"}
    assert set(paths["/api/baskets/current/lines/"]) == {"post"}
    assert set(paths["/api/baskets/current/lines/{product_id}/"]) >= {"patch", "delete"}
    order = paths["/api/baskets/current/order/"]["post"]
    assert {"200", "201", "400", "404", "409"} <= set(order["responses"])
    assert "409" in paths["/api/baskets/current/lines/"]["post"]["responses"]


def test_a_basket_beyond_the_largest_amount_is_shown_and_its_order_refused(api):
    """A product's price (up to 9,999,999,999.99) times 999 is beyond what an order's amount holds:
    reading the basket answered 500."""
    ProductFactory(external_id="YACHT", price=Decimal("9999999999.99"), stock=None)
    api.post(LINES, {"product_id": "YACHT", "quantity": 999}, format="json")

    basket = api.get(BASKET)
    placed = api.post(ORDER, format="json")

    assert basket.status_code == 200
    assert (basket.json()["lines"][0]["amount"], basket.json()["total"]) == ("9989999999990.01",) * 2
    assert placed.status_code == 400
    assert "999,999,999,999.99" in placed.json()["detail"]
    assert Order.objects.count() == 0
    assert api.get(BASKET).json()["lines"][0]["quantity"] == 999

import datetime as dt

import pytest
from rest_framework.test import APIClient

from crm.models import Product
from inventory.models import StockPolicy
from inventory.services.forecasts import forecast_run_create
from tests.crm.api.tokens import api_token_for
from tests.factories import StaffUserFactory, UserFactory
from tests.inventory.conftest import AS_OF


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


@pytest.fixture
def staff(db):
    return client_for(StaffUserFactory(username="stock-staff"))


@pytest.fixture
def forecast(small_shop):
    return forecast_run_create(as_of=AS_OF, horizon_days=14)


URLS = [
    "/api/inventory/stock/",
    "/api/inventory/stock/FAST/",
    "/api/inventory/products/FAST/forecast/",
    "/api/inventory/products/FAST/replenishment/",
    "/api/inventory/replenishment/",
    "/api/inventory/forecast-runs/latest/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS)
def test_inventory_endpoints_are_for_staff(forecast, url):
    assert APIClient().get(url).status_code == 401
    assert client_for(UserFactory(username="a-shopper")).get(url).status_code == 403


@pytest.mark.django_db
def test_stock_is_read_and_changed_by_staff(staff, small_shop):
    listed = staff.get("/api/inventory/stock/").json()
    assert listed["count"] == 4
    assert staff.get("/api/inventory/stock/FAST/").json() == {
        "product_id": "FAST",
        "name": small_shop["fast"].name,
        "on_hand": 40,
        "lead_time_days": None,
        "min_order_qty": None,
        "pack_size": None,
        "on_order": 0,
    }
    response = staff.patch("/api/inventory/stock/FAST/", {"on_hand": 12, "pack_size": 6}, format="json")
    assert response.status_code == 200
    assert response.json()["on_hand"] == 12 and response.json()["pack_size"] == 6
    assert Product.objects.get(external_id="FAST").stock == 12
    assert StockPolicy.objects.get(product__external_id="FAST").pack_size == 6
    # a null clears; fields not sent stay
    staff.patch("/api/inventory/stock/FAST/", {"on_hand": None}, format="json")
    assert Product.objects.get(external_id="FAST").stock is None
    assert StockPolicy.objects.get(product__external_id="FAST").pack_size == 6


@pytest.mark.django_db
def test_units_on_order_are_read_and_changed_by_staff(staff, small_shop):
    response = staff.patch("/api/inventory/stock/SLOW/", {"on_order": 30}, format="json")
    assert response.status_code == 200 and response.json()["on_order"] == 30
    assert StockPolicy.objects.get(product__external_id="SLOW").on_order == 30
    assert staff.get("/api/inventory/stock/SLOW/").json()["on_order"] == 30
    staff.patch("/api/inventory/stock/SLOW/", {"pack_size": 6}, format="json")
    assert StockPolicy.objects.get(product__external_id="SLOW").on_order == 30  # not sent: kept
    staff.patch("/api/inventory/stock/SLOW/", {"on_order": None}, format="json")
    assert StockPolicy.objects.get(product__external_id="SLOW").on_order == 0
    response = staff.patch("/api/inventory/stock/SLOW/", {"on_order": -1}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"on_order"}
    shopper = client_for(UserFactory(username="on-order-shopper"))
    assert shopper.patch("/api/inventory/stock/SLOW/", {"on_order": 5}, format="json").status_code == 403


@pytest.mark.django_db
def test_bad_stock_values_get_400_naming_the_field(staff, small_shop):
    response = staff.patch("/api/inventory/stock/FAST/", {"pack_size": 0, "on_hand": -1}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"pack_size", "on_hand"}
    assert staff.put("/api/inventory/stock/FAST/", {"on_hand": 1}, format="json").status_code == 405
    assert staff.get("/api/inventory/stock/NOPE/").status_code == 404
    # naming the id, as the other endpoints do (it said "No Product matches the given query.")
    missing = staff.patch("/api/inventory/stock/NOPE/", {"on_hand": 1}, format="json")
    assert (missing.status_code, missing.json()) == (404, {"detail": "No product with id 'NOPE'."})


@pytest.mark.django_db
def test_stock_changes_are_json_with_json_numbers(staff, small_shop):
    """A form body with an empty on_hand was taken as null: stock tracking turned off, silently."""
    form = staff.patch(
        "/api/inventory/stock/FAST/", "on_hand=", content_type="application/x-www-form-urlencoded"
    )
    text = staff.patch("/api/inventory/stock/FAST/", {"on_hand": "5"}, format="json")

    assert form.status_code == 415
    assert (text.status_code, text.json()) == (400, {"on_hand": ["Must be a whole number."]})
    assert Product.objects.get(external_id="FAST").stock == 40


@pytest.mark.django_db
def test_a_products_forecast_by_day_and_week(staff, forecast):
    daily = staff.get("/api/inventory/products/FAST/forecast/").json()
    assert daily["run_id"] == forecast.pk and daily["level"] == 80 and len(daily["points"]) == 14
    assert daily["points"][0]["date"] == AS_OF.isoformat()
    weekly = staff.get("/api/inventory/products/FAST/forecast/?freq=week").json()
    assert [p["date"] for p in weekly["points"]] == [
        AS_OF.isoformat(),
        (AS_OF + dt.timedelta(days=7)).isoformat(),
    ]
    assert weekly["points"][0]["forecast"] == pytest.approx(30, rel=0.05)
    bad = staff.get("/api/inventory/products/FAST/forecast/?freq=month")
    assert bad.status_code == 400 and "freq" in bad.json()
    assert staff.get("/api/inventory/products/OLD/forecast/").status_code == 404  # not sold for a year
    assert staff.get("/api/inventory/products/NOPE/forecast/").status_code == 404


@pytest.mark.django_db
def test_replenishment_per_product_and_as_a_list(staff, forecast):
    fast = staff.get("/api/inventory/products/FAST/replenishment/").json()
    assert fast["on_hand"] == 40 and fast["stockout_date"] == "2024-03-12" and fast["order_quantity"] > 0
    assert staff.get("/api/inventory/products/RARE/replenishment/").status_code == 404  # stock not tracked
    everything = staff.get("/api/inventory/replenishment/").json()
    assert [row["product_id"] for row in everything["results"]] == ["FAST", "SLOW"]
    at_risk = staff.get("/api/inventory/replenishment/?status=at_risk").json()
    assert [row["product_id"] for row in at_risk["results"]] == ["FAST"]
    overstock = staff.get("/api/inventory/replenishment/?status=overstock").json()
    assert [row["product_id"] for row in overstock["results"]] == ["SLOW"]
    assert staff.get("/api/inventory/replenishment/?status=nope").status_code == 400


@pytest.mark.django_db
def test_latest_forecast_run(staff, small_shop):
    assert staff.get("/api/inventory/forecast-runs/latest/").status_code == 404
    assert staff.get("/api/inventory/replenishment/").json()["count"] == 0
    run = forecast_run_create(as_of=AS_OF, horizon_days=7)
    body = staff.get("/api/inventory/forecast-runs/latest/").json()
    assert body["id"] == run.pk and body["product_count"] == 3 and "all" in body["backtest"]

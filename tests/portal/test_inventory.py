import csv
from io import StringIO

import pytest
from django.test import Client

from core.models import Job
from inventory.models import StockPolicy
from inventory.services.forecasts import forecast_run_create
from tests.factories import JobFactory, StaffUserFactory, UserFactory
from tests.inventory.conftest import AS_OF

PAGES = ["/staff/inventory/", "/staff/inventory/reorder/", "/staff/inventory/products/FAST/"]


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(StaffUserFactory(username="buyer"))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*PAGES, "/staff/inventory/reorder.csv"])
def test_inventory_pages_are_for_staff(small_shop, url):
    assert Client().get(url).status_code == 302
    shopper = Client()
    shopper.force_login(UserFactory(username="not-staff"))
    assert shopper.get(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_pages_say_there_is_no_forecast_yet(staff_client, small_shop, url):
    response = staff_client.get(url)
    assert response.status_code == 200
    assert (
        b"No demand forecast yet" in response.content or b"No forecast for this product" in response.content
    )


@pytest.mark.django_db
def test_overview_lists_products_at_risk_overstock_and_the_backtest(staff_client, small_shop):
    forecast_run_create(as_of=AS_OF, horizon_days=28)
    page = staff_client.get("/staff/inventory/").content.decode()
    at_risk = page.split('id="at-risk"')[1].split("</section>")[0]
    overstock = page.split('id="overstock"')[1].split("</section>")[0]
    assert "FAST" in at_risk and "SLOW" not in at_risk and "12 Mar 2024" in at_risk
    assert "SLOW" in overstock and "FAST" not in overstock
    assert 'id="backtest-table"' in page and "Mean of 13 weeks" in page and "mean_13_weeks" not in page
    assert 'href="/staff/inventory/"' in page  # the navigation link


@pytest.mark.django_db
def test_product_page_charts_history_and_forecast_with_its_interval(staff_client, small_shop):
    forecast_run_create(as_of=AS_OF, horizon_days=28)
    page = staff_client.get("/staff/inventory/products/FAST/").content.decode()
    for series in ("Sold", "Forecast", "80% interval, low", "80% interval, high"):
        assert f'data-series="{series}"' in page
    assert '<dd id="stockout-date">12 Mar 2024</dd>' in page
    assert '<dd id="on-order">0</dd>' in page
    assert staff_client.get("/staff/inventory/products/NOPE/").status_code == 404


@pytest.mark.django_db
def test_product_page_shows_the_units_on_order_and_orders_less(staff_client, small_shop):
    forecast_run_create(as_of=AS_OF, horizon_days=28)
    before = staff_client.get("/staff/inventory/products/FAST/").content.decode()
    StockPolicy.objects.create(product=small_shop["fast"], on_order=10_000)
    page = staff_client.get("/staff/inventory/products/FAST/").content.decode()
    assert '<dd id="on-order">10,000</dd>' in page
    assert '<dd id="order-quantity">none</dd>' in page and '<dd id="order-quantity">none</dd>' not in before
    assert '<dd id="stockout-date">12 Mar 2024</dd>' in page  # what is on order has not arrived


@pytest.mark.django_db
def test_reorder_list_and_its_csv(staff_client, small_shop):
    forecast_run_create(as_of=AS_OF, horizon_days=28)
    page = staff_client.get("/staff/inventory/reorder/").content.decode()
    assert "FAST" in page and "SLOW" not in page
    assert "SLOW" in staff_client.get("/staff/inventory/reorder/?show=all").content.decode()
    response = staff_client.get("/staff/inventory/reorder.csv")
    assert response["Content-Disposition"] == 'attachment; filename="replenishment-2024-03-04.csv"'
    rows = list(csv.DictReader(StringIO(response.content.decode())))
    assert [row["product_id"] for row in rows] == ["FAST"]


@pytest.mark.django_db
def test_the_reorder_csv_holds_the_rows_of_the_page_with_their_names(staff_client, small_shop):
    """The page listed what to order; its CSV held every product with tracked stock, nothing to order
    for most of them, and no product's name."""
    small_shop["fast"].name = "Fast mug"
    small_shop["fast"].save()
    forecast_run_create(as_of=AS_OF, horizon_days=28)

    for query, listed in (("", ["FAST"]), ("?show=all", ["FAST", "SLOW"])):
        page = staff_client.get(f"/staff/inventory/reorder/{query}").content.decode()
        assert f'href="/staff/inventory/reorder.csv{query}"' in page
        response = staff_client.get(f"/staff/inventory/reorder.csv{query}")
        rows = list(csv.DictReader(StringIO(response.content.decode())))
        assert [row["product_id"] for row in rows] == listed, query
        assert rows[0]["name"] == "Fast mug" and int(rows[0]["order_quantity"]) > 0


@pytest.mark.django_db
def test_the_pages_of_every_product_with_tracked_stock_keep_showing_every_product(
    staff_client, small_shop, monkeypatch
):
    from portal.inventory import views

    monkeypatch.setattr(views, "REORDER_PAGE_SIZE", 1)
    forecast_run_create(as_of=AS_OF, horizon_days=28)

    page = staff_client.get("/staff/inventory/reorder/?show=all").content.decode()

    assert 'href="?show=all&amp;page=2"' in page


@pytest.mark.django_db(transaction=True)
def test_forecast_now_queues_a_job(staff_client, small_shop, eager_celery):
    response = staff_client.post("/staff/inventory/forecast/")
    job = Job.objects.get(kind=Job.Kind.FORECAST)
    assert response.status_code == 302 and response["Location"] == f"/staff/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.result["products"] == 3
    assert staff_client.get("/staff/inventory/forecast/").status_code == 405


def test_forecast_now_while_a_forecast_is_on_its_way_queues_no_other(staff_client, db):
    on_its_way = JobFactory(kind=Job.Kind.FORECAST, status=Job.Status.QUEUED)

    response = staff_client.post("/staff/inventory/forecast/", follow=True)

    assert response.redirect_chain[-1][0] == f"/staff/jobs/{on_its_way.pk}/"
    assert f"A demand forecast is already queued (job {on_its_way.pk})" in response.content.decode()
    assert list(Job.objects.filter(kind=Job.Kind.FORECAST)) == [on_its_way]


@pytest.mark.django_db
def test_a_product_with_nothing_on_hand_reads_out_of_stock_not_a_date_already_past(staff_client, small_shop):
    # the forecast starts on its as-of date, the day after the latest sale: a "runs out" date of a
    # product with nothing on hand is that day, already past when the buyer reads it
    small_shop["fast"].stock = 0
    small_shop["fast"].save(update_fields=["stock"])
    forecast_run_create(as_of=AS_OF, horizon_days=28)

    page = staff_client.get("/staff/inventory/products/FAST/").content.decode()
    reorder = staff_client.get("/staff/inventory/reorder/").content.decode()

    assert '<dd id="stockout-date">out of stock now</dd>' in page
    fast_row = reorder.split('href="/staff/inventory/products/FAST/"')[1].split("</tr>")[0]
    assert "<td>Out of stock</td>" in fast_row
    assert AS_OF.strftime("%-d %b %Y") not in fast_row

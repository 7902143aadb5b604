"""The buyer's Inventory area in a real browser: at-risk list, a product's chart, the reorder CSV."""

import csv

import pytest

from inventory.services.forecasts import forecast_run_create
from tests.browser.helpers import drawn_marks, log_in
from tests.factories import StaffUserFactory
from tests.inventory.conftest import AS_OF, small_shop  # noqa: F401 (the shop is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def page_overflow(page) -> int:
    """How many pixels the page is wider than the window (0: nothing to scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_a_buyer_reads_the_inventory_area_and_downloads_the_reorder_list(page, small_shop):  # noqa: F811
    # a real catalogue's long names make the tables wider than the window's content area
    small_shop["fast"].name = "SET OF 12 HAND PAINTED CHRISTMAS TREE DECORATIONS WITH RIBBON"
    small_shop["fast"].save(update_fields=["name"])
    forecast_run_create(as_of=AS_OF, horizon_days=28)
    StaffUserFactory(username="buyer")
    log_in(page, username="buyer")

    page.click(".sidebar nav >> text=Inventory")
    assert "FAST" in page.inner_text("#at-risk") and "SLOW" in page.inner_text("#overstock")
    assert page_overflow(page) == 0  # wide tables scroll inside their cards, not the page

    page.click("#at-risk >> text=FAST")
    assert drawn_marks(page, "main") > 1  # sales, forecast and its interval
    assert page.inner_text("#stockout-date") == "12 Mar 2024"

    page.goto("/staff/inventory/reorder/")
    with page.expect_download() as download:
        page.click("a[href='/staff/inventory/reorder.csv']")
    with open(download.value.path(), newline="") as handle:
        rows = list(csv.DictReader(handle))
    # the rows of the page, what to order, named as the supplier knows them
    assert [row["product_id"] for row in rows] == ["FAST"] and int(rows[0]["order_quantity"]) > 0
    assert rows[0]["name"] == small_shop["fast"].name

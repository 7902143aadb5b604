import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from crm.models import Category, Customer, Order, OrderLine, Product
from crm.services.importing import import_canonical_frame, import_order_file

DATA = Path(__file__).resolve().parents[1] / "data"
UCI_QUIRKS = DATA / "uci_quirks.csv"
CANONICAL_SMALL = DATA / "canonical_small.csv"
UTC = dt.UTC

pytestmark = pytest.mark.django_db


def _table_snapshot() -> dict[str, list[tuple]]:
    return {
        "customers": list(Customer.objects.order_by("external_id").values_list("external_id", "country")),
        "categories": list(Category.objects.order_by("path").values_list("path", "parent__path", "name")),
        "products": list(
            Product.objects.order_by("external_id").values_list(
                "external_id", "name", "price", "category__path"
            )
        ),
        "orders": list(
            Order.objects.order_by("external_id").values_list(
                "external_id", "customer__external_id", "placed_at", "status", "country"
            )
        ),
        "lines": list(
            OrderLine.objects.order_by("order__external_id", "line_number").values_list(
                "order__external_id",
                "line_number",
                "product__external_id",
                "item_code",
                "item_name",
                "quantity",
                "unit_price",
            )
        ),
    }


def test_uci_file_with_its_quirks():
    report = import_order_file(path=UCI_QUIRKS)

    assert report.layout == "uci"
    assert report.rows_read == 12 and report.rows_imported == 12 and report.rows_rejected == 0
    # float customer ids lose their ".0"; the country is the one of most of their orders
    assert _table_snapshot()["customers"] == [("13047", "France"), ("17850", "United Kingdom")]
    # only 5-digit(+letters) stock codes are products, upper-cased
    assert sorted(Product.objects.values_list("external_id", flat=True)) == [
        "22632",
        "22633",
        "71053",
        "84029G",
        "85123A",
    ]
    # a missing description falls back to the most frequent one seen for the code, else the code
    assert Product.objects.get(external_id="22632").name == "HAND WARMER RED POLKA DOT"
    assert Product.objects.get(external_id="84029G").name == "84029G"
    guest_line = OrderLine.objects.get(order__external_id="536366", item_code="22632")
    assert guest_line.item_name == "HAND WARMER RED POLKA DOT"
    # price of the latest sale line, not of the later return
    assert Product.objects.get(external_id="22632").price == Decimal("2.10")
    assert Product.objects.get(external_id="71053").price == Decimal("3.39")
    # cancellations are returned orders with negative quantities
    returned = Order.objects.get(external_id="C536380")
    assert returned.status == Order.Status.RETURNED
    assert list(returned.lines.values_list("quantity", flat=True)) == [-2]
    assert Order.objects.filter(status=Order.Status.RETURNED).count() == report.return_orders == 2
    # rows without a customer are kept as guest orders
    assert set(Order.objects.filter(customer=None).values_list("external_id", flat=True)) == {
        "536366",
        "A563185",
    }
    assert report.guest_orders == 2
    # service codes are lines without a product, negative price allowed on them
    non_product = OrderLine.objects.filter(product=None).order_by("item_code")
    assert [(line.item_code, line.item_name) for line in non_product] == [
        ("B", "Adjust bad debt"),
        ("D", "Discount"),
        ("DCGSSGIRL", "GIRLS PARTY BAG"),
        ("POST", "POSTAGE"),
    ]
    assert OrderLine.objects.get(item_code="B").unit_price == Decimal("-11062.06")
    # exact duplicate rows stay separate lines, numbered by their position in the order
    first_order = Order.objects.get(external_id="536365")
    assert list(first_order.lines.values_list("line_number", "item_code", "quantity")) == [
        (1, "85123A", 6),
        (2, "71053", 6),
        (3, "71053", 6),
        (4, "POST", 1),
    ]
    assert first_order.placed_at == dt.datetime(2010, 12, 1, 8, 26, tzinfo=UTC)
    assert first_order.channel == Order.Channel.IMPORT
    assert report.orders.created == 8 and report.order_lines.created == 12
    assert report.customers.created == 2 and report.products.created == 5
    assert report.non_product_lines == 4


def test_canonical_file_builds_the_category_tree():
    report = import_order_file(path=CANONICAL_SMALL, file_format="canonical")

    assert report.layout == "canonical"
    snapshot = _table_snapshot()
    assert snapshot["categories"] == [
        ("Kitchen", None, "Kitchen"),
        ("Kitchen/Mugs", "Kitchen", "Mugs"),
        ("Kitchen/Textiles", "Kitchen", "Textiles"),
        ("Kitchen/Textiles/Towels", "Kitchen/Textiles", "Towels"),
    ]
    assert report.categories.created == 4
    assert snapshot["products"] == [
        ("SKU-1", "Blue mug", Decimal("4.75"), "Kitchen/Mugs"),
        ("SKU-2", "Tea towel", Decimal("3.00"), "Kitchen/Textiles/Towels"),
    ]
    # POST is a non-product code by setting; an empty customer id is a guest order
    assert OrderLine.objects.get(item_code="POST").product is None
    guest = Order.objects.get(external_id="W2")
    assert guest.customer is None and guest.country == "Germany"
    assert guest.placed_at == dt.datetime(2024, 3, 5, 11, 30, tzinfo=UTC)
    # an order of only negative quantities is a return
    assert Order.objects.get(external_id="W3").status == Order.Status.RETURNED
    assert Order.objects.get(external_id="W1").status == Order.Status.COMPLETED


def test_non_product_codes_come_from_the_setting(settings, tmp_path):
    settings.CRM_NON_PRODUCT_CODES = ["GIFTWRAP", "FEE-*"]
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,product_id,quantity,unit_price,ordered_at\n"
        "A1,c1,GIFTWRAP,1,1.50,2024-01-01T10:00:00Z\n"
        "A1,c1,fee-card,1,-0.30,2024-01-01T10:00:00Z\n"
        "A1,c1,POST,1,2.00,2024-01-01T10:00:00Z\n"
    )

    import_order_file(path=path)

    assert list(Product.objects.values_list("external_id", flat=True)) == ["POST"]
    assert OrderLine.objects.filter(product=None).count() == 2


@pytest.mark.parametrize("path", [UCI_QUIRKS, CANONICAL_SMALL], ids=["uci", "canonical"])
def test_second_import_of_the_same_file_changes_nothing(path):
    import_order_file(path=path)
    before = _table_snapshot()

    again = import_order_file(path=path)

    assert again.created == 0 and again.updated == 0
    assert again.order_lines.unchanged == again.rows_imported
    assert again.orders.deleted == again.order_lines.deleted == 0
    assert _table_snapshot() == before


def test_reimport_updates_only_what_changed(tmp_path):
    import_order_file(path=CANONICAL_SMALL)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        CANONICAL_SMALL.read_text().replace(
            "W3,bob,SKU-1,Blue mug,Kitchen/Mugs,-1", "W3,bob,SKU-1,Blue mug,Kitchen/Mugs,-3"
        )
    )

    report = import_order_file(path=changed)

    assert report.order_lines.updated == 1 and report.order_lines.created == 0
    assert report.orders.updated == 0 and report.products.updated == 0
    assert OrderLine.objects.get(order__external_id="W3").quantity == -3


def test_reimport_of_a_shorter_order_removes_its_extra_lines(tmp_path):
    import_order_file(path=CANONICAL_SMALL)
    shorter = tmp_path / "shorter.csv"
    shorter.write_text(
        "\n".join(line for line in CANONICAL_SMALL.read_text().splitlines() if ",POST," not in line)
    )

    report = import_order_file(path=shorter)

    assert report.order_lines.deleted == 1
    assert not OrderLine.objects.filter(item_code="POST").exists()


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_xlsx_and_parquet_files_read_like_csv(tmp_path, suffix):
    frame = pd.read_csv(CANONICAL_SMALL, dtype=str, keep_default_na=False)
    path = tmp_path / f"orders{suffix}"
    if suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_parquet(path, index=False)

    report = import_order_file(path=path)
    from_file = _table_snapshot()
    OrderLine.objects.all().delete()
    Order.objects.all().delete()
    Product.objects.all().delete()
    import_order_file(path=CANONICAL_SMALL)

    assert report.rows_imported == 5 and report.orders.created == 3
    assert from_file == _table_snapshot()


def test_uci_parquet_with_typed_columns(tmp_path):
    frame = pd.read_csv(UCI_QUIRKS, dtype=str, keep_default_na=False)
    frame["Quantity"] = frame["Quantity"].astype("int64")
    frame["UnitPrice"] = frame["UnitPrice"].astype("float64")
    frame["CustomerID"] = pd.to_numeric(frame["CustomerID"])
    path = tmp_path / "online_retail.parquet"
    frame.to_parquet(path, index=False)

    report = import_order_file(path=path, file_format="uci")

    assert report.rows_imported == 12
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["13047", "17850"]


def test_online_retail_ii_column_names(tmp_path):
    path = tmp_path / "online_retail_ii.csv"
    path.write_text(
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
        "489434,85048,15CM CHRISTMAS GLASS BALL,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n"
    )

    report = import_order_file(path=path)

    assert report.layout == "uci"
    assert Order.objects.get(external_id="489434").customer.external_id == "13085"


def test_canonical_frame_accepts_datetimes_and_iso_strings():
    frame = pd.DataFrame(
        {
            "order_id": ["API-1", "API-2"],
            "customer_id": ["c1", "c2"],
            "product_id": ["SKU-9", "SKU-9"],
            "quantity": [1, 2],
            "unit_price": [9.99, 9.99],
            "ordered_at": [dt.datetime(2024, 5, 1, 9, 0, tzinfo=UTC), "2024-05-02T09:00:00+00:00"],
        }
    )

    report = import_canonical_frame(frame=frame, source="api")

    assert report.orders.created == 2
    assert Order.objects.get(external_id="API-1").placed_at == dt.datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    assert Order.objects.get(external_id="API-2").placed_at == dt.datetime(2024, 5, 2, 9, 0, tzinfo=UTC)


def test_progress_is_reported_up_to_the_end():
    calls = []

    import_order_file(path=UCI_QUIRKS, progress=lambda fraction, message: calls.append((fraction, message)))

    fractions = [fraction for fraction, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(calls) >= 4


def test_command_prints_the_summary(capsys):
    call_command("import_orders", str(UCI_QUIRKS), "--format", "uci", "--no-progress")

    output = capsys.readouterr().out
    assert "12 rows read, 12 imported, 0 skipped, 0 rejected" in output
    assert "orders: 8 created, 0 updated, 0 unchanged" in output
    assert "order lines: 12 created" in output


def test_command_fails_with_the_first_errors_on_a_bad_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CANONICAL_SMALL.read_text().replace("4.75", "four"))

    with pytest.raises(CommandError) as failure:
        call_command("import_orders", str(bad), "--no-progress")

    # manage.py exits with this status
    assert failure.value.returncode == 1
    assert "line 5, column unit_price: not a number (value 'four')" in str(failure.value)
    assert "bad.csv" in str(failure.value)
    assert not Order.objects.exists()


def test_command_counts_bad_rows_as_the_import_of_the_valid_rows_does(tmp_path, capsys):
    """It said "7 error(s)" for the five bad rows that --skip-invalid reports as "5 rejected"."""
    bad = tmp_path / "bad.csv"
    lines = CANONICAL_SMALL.read_text().splitlines(keepends=True)
    header = lines[0].strip().split(",")
    broken = lines[1].strip().split(",")
    broken[header.index("quantity")] = "x"
    broken[header.index("unit_price")] = "y"
    bad.write_text(lines[0] + ",".join(broken) + "\n" + "".join(lines[2:]))

    with pytest.raises(CommandError) as failure:
        call_command("import_orders", str(bad), "--no-progress")
    call_command("import_orders", str(bad), "--skip-invalid", "--no-progress")

    assert str(failure.value).startswith(f"{bad}: 1 bad row, nothing imported")
    assert "1 rejected" in capsys.readouterr().out


@pytest.mark.slow
def test_the_whole_uci_file():
    from tests.conftest import UCI_PARQUET

    report = import_order_file(path=UCI_PARQUET)

    assert report.rows_read == report.rows_imported == 541_909
    assert (report.customers.created, report.products.created, report.orders.created) == (4372, 3926, 25_900)
    assert (report.guest_orders, report.return_orders, report.non_product_lines) == (3710, 3836, 2995)
    assert OrderLine.objects.count() == 541_909


def test_a_catalogue_price_is_the_latest_positive_one_and_zero_never_overwrites_it(tmp_path):
    """UCI's files hold sales at 0.00 (samples, write-offs): the latest sale's price made 305 of the
    demo's products free in the shop."""
    header = "order_id,customer_id,product_id,quantity,unit_price,ordered_at\n"
    first = tmp_path / "first.csv"
    first.write_text(
        header + "A1,c1,LAMP,2,7.95,2024-01-01T10:00:00Z\n"
        "A2,c2,LAMP,5,0.00,2024-02-01T10:00:00Z\n"  # the latest sale, free
        "A2,c2,FREEBIE,1,0.00,2024-02-01T10:00:00Z\n"  # never sold at a price
    )
    import_order_file(path=first)
    assert Product.objects.get(external_id="LAMP").price == Decimal("7.95")
    assert Product.objects.get(external_id="FREEBIE").price == Decimal("0.00")
    assert list(Product.objects.available().values_list("external_id", flat=True)) == ["LAMP"]

    later = tmp_path / "later.csv"
    later.write_text(header + "A3,c1,LAMP,1,0.00,2024-03-01T10:00:00Z\n")
    report = import_order_file(path=later)
    assert Product.objects.get(external_id="LAMP").price == Decimal("7.95")
    assert report.products.updated == 0


def test_a_file_older_than_the_stored_sales_leaves_names_and_prices_as_they_are(tmp_path):
    """Importing last year after this year set the catalogue back to last year's prices and names."""
    header = "order_id,customer_id,product_id,product_name,quantity,unit_price,ordered_at\n"
    this_year = tmp_path / "2011.csv"
    this_year.write_text(header + "B1,c1,LAMP,Lamp (new),1,2.95,2011-06-01T10:00:00Z\n")
    last_year = tmp_path / "2010.csv"
    last_year.write_text(
        header + "A1,c1,LAMP,Lamp (old),1,2.40,2010-01-01T10:00:00Z\n"
        "A1,c1,VASE,Vase,1,9.00,2010-01-01T10:00:00Z\n"
    )
    later = tmp_path / "2012.csv"
    later.write_text(header + "C1,c1,LAMP,Lamp (2012),1,3.10,2012-01-01T10:00:00Z\n")

    import_order_file(path=this_year)
    import_order_file(path=last_year)

    lamp = Product.objects.get(external_id="LAMP")
    assert (lamp.name, lamp.price) == ("Lamp (new)", Decimal("2.95"))
    assert Product.objects.get(external_id="VASE").price == Decimal("9.00")  # new to the catalogue
    assert OrderLine.objects.filter(product=lamp).count() == 2  # last year's sales are imported

    import_order_file(path=later)  # a newer file does change them
    lamp.refresh_from_db()
    assert (lamp.name, lamp.price) == ("Lamp (2012)", Decimal("3.10"))


def test_a_file_without_product_names_names_known_products_as_the_catalogue_does(tmp_path):
    """product_name is optional, but a file without it renamed a known product's order lines to its code
    ("85123A"), where the catalogue knows its name."""
    named = tmp_path / "named.csv"
    named.write_text(
        "order_id,customer_id,product_id,product_name,quantity,unit_price,ordered_at\n"
        "A1,c1,LAMP,Desk lamp,1,2.95,2011-06-01T10:00:00Z\n"
        "A1,c1,VASE,Vase,1,9.00,2011-06-01T10:00:00Z\n"
    )
    import_order_file(path=named)
    unnamed = tmp_path / "unnamed.csv"
    unnamed.write_text(
        "order_id,customer_id,product_id,quantity,unit_price,ordered_at\n"
        "A1,c1,LAMP,2,2.95,2011-06-01T10:00:00Z\n"
        "A1,c1,VASE,1,9.00,2011-06-01T10:00:00Z\n"
        "A2,c1,KETTLE,1,15.00,2011-06-02T10:00:00Z\n"
    )

    import_order_file(path=unnamed)

    names = dict(OrderLine.objects.values_list("item_code", "item_name"))
    assert names == {"LAMP": "Desk lamp", "VASE": "Vase", "KETTLE": "KETTLE"}  # a new product: its code
    assert Product.objects.get(external_id="LAMP").name == "Desk lamp"
    assert OrderLine.objects.get(item_code="LAMP").quantity == 2

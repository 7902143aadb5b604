from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from crm.models import Customer, Order, OrderLine, Product
from crm.services.importing import ImportValidationError, RowError, import_canonical_frame, import_order_file
from tests.factories import OrderLineFactory

CANONICAL = Path(__file__).resolve().parents[1] / "data" / "canonical_small.csv"
HEADER = "order_id,customer_id,product_id,product_name,category,quantity,unit_price,ordered_at,country\n"
GOOD_ROW = "W9,carol,SKU-7,Jug,Kitchen,1,5.00,2024-04-01T10:00:00Z,United Kingdom\n"

pytestmark = pytest.mark.django_db


def _nothing_written() -> bool:
    return not (Order.objects.exists() or OrderLine.objects.exists() or Product.objects.exists())


@pytest.mark.parametrize(
    ("bad_row", "column", "message"),
    [
        ("W1,alice,SKU-1,Mug,,2,4.50,yesterday,UK\n", "ordered_at", "not an ISO 8601 date and time"),
        ("W1,alice,SKU-1,Mug,,two,4.50,2024-03-01T10:00:00Z,UK\n", "quantity", "not a number"),
        ("W1,alice,SKU-1,Mug,,1.5,4.50,2024-03-01T10:00:00Z,UK\n", "quantity", "not a whole number"),
        ("W1,alice,SKU-1,Mug,,2,4,50,2024-03-01T10:00:00Z\n", "ordered_at", "not an ISO 8601 date and time"),
        (
            "W1,alice,SKU-1,Mug,,2,-4.50,2024-03-01T10:00:00Z,UK\n",
            "unit_price",
            "negative price on a product",
        ),
        (",alice,SKU-1,Mug,,2,4.50,2024-03-01T10:00:00Z,UK\n", "order_id", "required value is empty"),
        ("W1,alice,,Mug,,2,4.50,2024-03-01T10:00:00Z,UK\n", "product_id", "required value is empty"),
        ("W1,alice,SKU-1,Mug,,2,,2024-03-01T10:00:00Z,UK\n", "unit_price", "required value is empty"),
        # dates no order was placed on: one moved segments, forecasts and the dashboard to it
        ("W1,alice,SKU-1,Mug,,2,4.50,0001-01-01T00:00:00Z,UK\n", "ordered_at", "before 1970"),
        ("W1,alice,SKU-1,Mug,,2,4.50,1969-12-31T23:59:59Z,UK\n", "ordered_at", "before 1970"),
        ("W1,alice,SKU-1,Mug,,2,4.50,2300-01-01T00:00:00Z,UK\n", "ordered_at", "more than a day ahead"),
    ],
)
def test_a_bad_row_is_named_by_file_line_and_column_and_nothing_is_written(
    tmp_path, bad_row, column, message
):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + GOOD_ROW + bad_row + GOOD_ROW.replace("W9", "W10"))

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    first = failure.value.errors[0]
    assert (first.line, first.column) == (3, column)
    assert message in first.message
    assert str(path) in str(failure.value) and f"line 3, column {column}" in str(failure.value)
    assert isinstance(failure.value, ValueError)
    assert _nothing_written()


def test_a_line_or_an_order_whose_amount_cannot_be_written_is_refused_naming_it(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER
        + GOOD_ROW
        + "BIG1,,P1,,,2147483647,99999999.9999,2011-01-01T00:00:00Z,\n"
        + "BIG2,,P1,,,10000,60000000,2011-01-01T00:00:00Z,\n"
        + "BIG2,,P2,,,10000,60000000,2011-01-01T00:00:00Z,\n"
    )

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    assert [(error.line, error.column, error.value) for error in failure.value.errors] == [
        (3, "quantity", "2147483647"),
        (4, "order_id", "BIG2"),
        (5, "order_id", "BIG2"),
    ]
    assert "999,999,999,999.99" in failure.value.errors[0].message
    assert _nothing_written()


def test_skip_invalid_leaves_out_every_line_of_an_order_whose_total_cannot_be_written(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER
        + GOOD_ROW
        + "BIG2,,P1,,,10000,60000000,2011-01-01T00:00:00Z,\n"
        + "BIG2,,P2,,,10000,60000000,2011-01-01T00:00:00Z,\n"
    )

    report = import_order_file(path=path, skip_invalid=True)

    assert (report.rows_imported, report.rows_rejected) == (1, 2)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["W9"]


def test_an_order_placed_in_the_shop_is_refused_at_every_line_and_nothing_is_written(tmp_path):
    # given: an order placed in the shop
    shop_order = OrderLineFactory(
        order__external_id="WEB-1", order__channel=Order.Channel.WEB, item_code="SHOP-1"
    ).order
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER
        + GOOD_ROW
        + "WEB-1,12346,SKU-1,Mug,,2,4.50,2024-03-01T10:00:00Z,UK\n"
        + "WEB-1,12346,SKU-2,Cup,,1,3.00,2024-03-01T10:00:00Z,UK\n"
    )

    # when
    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    # then
    assert [(error.line, error.column, error.value) for error in failure.value.errors] == [
        (3, "order_id", "WEB-1"),
        (4, "order_id", "WEB-1"),
    ]
    assert "placed in the shop" in failure.value.errors[0].message
    assert not Order.objects.exclude(pk=shop_order.pk).exists()
    assert not Customer.objects.filter(external_id__in=["carol", "12346"]).exists()
    assert list(shop_order.lines.values_list("item_code", flat=True)) == ["SHOP-1"]
    shop_order_now = Order.objects.get(pk=shop_order.pk)
    assert (shop_order_now.customer_id, shop_order_now.channel) == (shop_order.customer_id, Order.Channel.WEB)


def test_skip_invalid_leaves_out_an_order_placed_in_the_shop_and_imports_the_rest(tmp_path):
    shop_order = OrderLineFactory(
        order__external_id="WEB-1", order__channel=Order.Channel.WEB, item_code="SHOP-1"
    ).order
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "WEB-1,12346,SKU-1,Mug,,2,4.50,2024-03-01T10:00:00Z,UK\n" + GOOD_ROW)
    rejects = tmp_path / "orders.rejects.csv"

    report = import_order_file(path=path, skip_invalid=True, rejects_path=rejects)

    assert (report.rows_imported, report.rows_rejected, report.orders.updated) == (1, 1, 0)
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["W9", "WEB-1"]
    assert list(shop_order.lines.values_list("item_code", flat=True)) == ["SHOP-1"]
    assert Order.objects.get(pk=shop_order.pk).customer_id == shop_order.customer_id
    rejected = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert rejected["order_id"].tolist() == ["WEB-1"]
    assert rejected["reason"].str.startswith("order_id: ").tolist() == [True]


def test_every_bad_row_is_reported_in_line_order(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER
        + "W1,alice,SKU-1,Mug,,x,4.50,2024-03-01T10:00:00Z,UK\n"
        + GOOD_ROW
        + "W2,bob,SKU-2,Cup,,1,y,not-a-date,UK\n"
    )

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    assert [(error.line, error.column) for error in failure.value.errors] == [
        (2, "quantity"),
        (4, "unit_price"),
        (4, "ordered_at"),
    ]
    assert failure.value.errors[1] == RowError(4, "unit_price", "y", "not a number")


def test_negative_price_is_allowed_on_non_product_lines(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "W1,alice,M,Manual,,1,-3.00,2024-03-01T10:00:00Z,UK\n")

    import_order_file(path=path)

    assert OrderLine.objects.get().product is None


def test_missing_required_column(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,product_id,quantity,ordered_at\nW1,a,SKU-1,1,2024-03-01T10:00:00Z\n"
    )

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    assert failure.value.errors == [RowError(1, "unit_price", "", "missing column")]
    assert "line 1, column unit_price: missing column" in str(failure.value)


def test_missing_uci_column_names_both_spellings(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(
        "InvoiceNo,StockCode,Quantity,InvoiceDate,CustomerID,Country\n1,22633,1,2010-12-01 08:00,1,UK\n"
    )

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    assert failure.value.errors[0].column == "UnitPrice or Price"


def test_unknown_layout_lists_the_expected_columns(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("a,b,c\n1,2,3\n")

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    assert "unknown layout" in str(failure.value)
    assert "order_id, customer_id, product_id" in str(failure.value)
    assert "InvoiceNo, StockCode" in str(failure.value)


@pytest.mark.parametrize("body", ["", "\n\n", ",,,,,,,,\n"])
def test_a_file_with_a_header_and_no_order_lines_fails(tmp_path, body):
    """It "succeeded" with 0 rows imported: most often the wrong file, or one cut short."""
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + body)

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path, skip_invalid=True)

    assert str(failure.value) == f"{path}: line 2: no order lines: the file holds a header only"


def test_a_file_without_a_header_keeps_its_first_row_out_of_the_job_text(tmp_path):
    """The first row's cells were the message: a job row kept a customer's e-mail and name."""
    path = tmp_path / "orders.csv"
    path.write_text("P1,jane.doe@example.org,85123A,Jane Doe,1,2.95,2024-01-01T10:00:00Z\n")

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    error = failure.value.errors[0]
    assert "unknown layout" in error.describe(with_value=False)
    assert "jane.doe" not in error.describe(with_value=False)
    assert "jane.doe@example.org" in error.describe()  # the command line shows what it found


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_csv_with_semicolons_or_tabs_between_columns_is_read(tmp_path, separator):
    path = tmp_path / "orders.csv"
    path.write_text((HEADER + GOOD_ROW.replace("5.00", "5.50")).replace(",", separator))

    report = import_order_file(path=path)

    assert report.rows_imported == 1
    assert Order.objects.get(external_id="W9").lines.get().unit_price == Decimal("5.50")


def test_unknown_file_format_and_unknown_layout_name(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text("{}")

    with pytest.raises(ImportValidationError, match="unknown file format"):
        import_order_file(path=path)
    with pytest.raises(ImportValidationError, match="unknown format"):
        import_order_file(path=CANONICAL, file_format="sap")


@pytest.mark.parametrize("name", ["broken.xlsx", "broken.parquet"])
def test_unreadable_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"this is not a spreadsheet")

    with pytest.raises(ImportValidationError, match="unreadable"):
        import_order_file(path=path)


def test_missing_file(tmp_path):
    with pytest.raises(ImportValidationError, match="file not found"):
        import_order_file(path=tmp_path / "nowhere.csv")


def test_xlsx_errors_name_the_sheet_row(tmp_path):
    frame = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    frame.loc[3, "quantity"] = "lots"
    path = tmp_path / "orders.xlsx"
    frame.to_excel(path, index=False)

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    assert (failure.value.errors[0].line, failure.value.errors[0].column) == (5, "quantity")


def test_frame_errors_name_the_row_position_plus_two():
    frame = pd.DataFrame(
        {
            "order_id": ["A", "B"],
            "customer_id": ["c", "c"],
            "product_id": ["SKU", "SKU"],
            "quantity": [1, 1],
            "unit_price": [1.0, -1.0],
            "ordered_at": ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"],
        },
        index=[10, 11],
    )

    with pytest.raises(ImportValidationError) as failure:
        import_canonical_frame(frame=frame, source="api")

    assert failure.value.errors[0].line == 3 and str(failure.value).startswith("api: line 3")


def test_skip_invalid_imports_good_rows_and_writes_rejects(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER
        + GOOD_ROW
        + "W1,alice,SKU-1,Mug,,2,4.50,yesterday,UK\n"
        + "\n"
        + "W2,bob,SKU-2,Cup,,x,-1,2024-03-01T10:00:00Z,UK\n"
        + GOOD_ROW.replace("W9", "W10")
    )
    rejects = tmp_path / "rejects" / "orders.rejects.csv"

    report = import_order_file(path=path, skip_invalid=True, rejects_path=rejects)

    assert (report.rows_read, report.rows_imported, report.rows_skipped, report.rows_rejected) == (5, 2, 1, 2)
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["W10", "W9"]
    assert Customer.objects.filter(external_id__in=["alice", "bob"]).count() == 0
    rejected = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert rejected["line"].tolist() == ["3", "5"]
    assert rejected["order_id"].tolist() == ["W1", "W2"]
    assert rejected["reason"].tolist() == [
        "ordered_at: not an ISO 8601 date and time",
        "quantity: not a number; "
        "unit_price: negative price on a product line (allowed only for non-product codes)",
    ]
    assert report.rejects_path == str(rejects)


def test_the_rejects_file_writes_a_formula_cell_as_text(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + GOOD_ROW + '=HYPERLINK("http://x"),bob,SKU-2,Cup,,x,1,2024-03-01T10:00:00Z,UK\n')
    rejects = tmp_path / "orders.rejects.csv"

    import_order_file(path=path, skip_invalid=True, rejects_path=rejects)

    rejected = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert rejected["order_id"].tolist() == ['\'=HYPERLINK("http://x")']


FIVE_BAD_ROWS = (
    HEADER
    + GOOD_ROW
    + "W1,alice,SKU-1,Mug,,x,y,2024-03-01T10:00:00Z,UK\n"
    + "W2,bob,SKU-2,Cup,,1,4.50,yesterday,UK\n"
    + "W3,bob,SKU-2,Cup,,1.5,-2,2024-03-01T10:00:00Z,UK\n"
    + "W4,bob,,Cup,,1,4.50,2024-03-01T10:00:00Z,UK\n"
    + ",bob,SKU-2,Cup,,1,4.50,2024-03-01T10:00:00Z,UK\n"
    + GOOD_ROW.replace("W9", "W10")
)


def test_a_failed_import_counts_its_bad_rows_as_skipping_them_would(tmp_path):
    """Five bad rows holding seven errors read "7 bad rows", where importing the valid rows of the
    same file said "5 rejected"."""
    path = tmp_path / "bad.csv"
    path.write_text(FIVE_BAD_ROWS)

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    assert (failure.value.error_count, failure.value.bad_rows) == (7, 5)
    assert failure.value.problem() == "5 bad rows"
    assert import_order_file(path=path, skip_invalid=True).rows_rejected == 5


def test_an_error_of_the_file_itself_is_not_called_a_row(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("a,b,c\n1,2,3\n")

    with pytest.raises(ImportValidationError) as failure:
        import_order_file(path=path)

    assert failure.value.bad_rows == 0
    assert failure.value.problem() == "a problem with the file itself"


def test_an_unreadable_file_is_named_without_its_place_on_the_server(tmp_path):
    """pyarrow's message held the upload's full path, which every staff role read on the job page."""
    path = tmp_path / "junk.parquet"
    path.write_bytes(b"PAR1garbagePAR1")

    with pytest.raises(ImportValidationError) as caught:
        import_order_file(path=path)

    message = caught.value.errors[0].message
    assert message.startswith("unreadable parquet file: ") and "junk.parquet" in message
    assert str(tmp_path) not in message

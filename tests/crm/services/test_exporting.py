import pandas as pd
import pytest
from django.core.management import call_command

from crm.models import Category, Customer, Order, OrderLine, Product
from crm.services.exporting import export_order_lines
from crm.services.importing import CANONICAL_COLUMNS, import_order_file
from tests.crm.services.test_importing import CANONICAL_SMALL, UCI_QUIRKS, _table_snapshot

pytestmark = pytest.mark.django_db


def _empty_the_database() -> None:
    OrderLine.objects.all().delete()
    Order.objects.all().delete()
    Product.objects.all().delete()
    Category.objects.all().delete()
    Customer.objects.all().delete()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_then_import_into_an_empty_database_gives_the_same_data(tmp_path, suffix):
    import_order_file(path=UCI_QUIRKS)
    import_order_file(path=CANONICAL_SMALL)
    before = _table_snapshot()
    path = tmp_path / f"orders{suffix}"

    written = export_order_lines(path=path)
    _empty_the_database()
    report = import_order_file(path=path)

    assert written == OrderLine.objects.count() == 17
    assert report.created == sum(len(rows) for rows in before.values())
    assert _table_snapshot() == before


def test_export_writes_returns_guests_and_non_product_lines_in_the_canonical_layout(tmp_path):
    import_order_file(path=UCI_QUIRKS)
    path = tmp_path / "orders.csv"

    export_order_lines(path=path)

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == CANONICAL_COLUMNS
    assert frame.loc[frame["order_id"] == "C536380", "quantity"].tolist() == ["-2"]
    assert set(frame.loc[frame["order_id"] == "536366", "customer_id"]) == {""}
    postage = frame[frame["product_id"] == "POST"].iloc[0]
    assert (postage["product_name"], postage["unit_price"]) == ("POSTAGE", "18")
    assert frame.loc[frame["order_id"] == "536365", "ordered_at"].iloc[0] == "2010-12-01T08:26:00+00:00"


def test_export_command(tmp_path, capsys):
    import_order_file(path=CANONICAL_SMALL)
    path = tmp_path / "out" / "orders.csv"

    call_command("export_orders", "--out", str(path), "--no-progress")

    assert "5 order lines written" in capsys.readouterr().out
    assert len(pd.read_csv(path)) == 5


def test_export_to_an_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Unknown export format"):
        export_order_lines(path=tmp_path / "orders.json")

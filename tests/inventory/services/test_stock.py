from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from crm.models import Product
from crm.services.importing import ImportValidationError
from inventory.models import StockPolicy
from inventory.services.stock import stock_import_file
from tests.factories import ProductFactory


def write(tmp_path, text: str):
    path = tmp_path / "stock.csv"
    path.write_text(text)
    return path


@pytest.mark.django_db
def test_import_stock_writes_on_hand_to_the_product_and_buying_rules_beside_it(tmp_path):
    ProductFactory(external_id="A", stock=None)
    ProductFactory(external_id="B", stock=7)
    path = write(
        tmp_path,
        "product_id,on_hand,lead_time_days,min_order_qty,pack_size\nA,12,14,24,6\nB,,,,\n",
    )
    out = StringIO()
    call_command("import_stock", str(path), stdout=out)
    assert "2 rows" in out.getvalue()
    assert Product.objects.get(external_id="A").stock == 12
    assert Product.objects.get(external_id="B").stock is None  # empty: not tracked
    policy = StockPolicy.objects.get(product__external_id="A")
    assert (policy.lead_time_days, policy.min_order_qty, policy.pack_size) == (14, 24, 6)
    assert StockPolicy.objects.get(product__external_id="B").pack_size is None
    # a file without the buying-rule columns leaves them as they are
    stock_import_file(path=write(tmp_path, "product_id,on_hand\nA,3\n"))
    assert Product.objects.get(external_id="A").stock == 3
    assert StockPolicy.objects.get(product__external_id="A").lead_time_days == 14


@pytest.mark.django_db
def test_a_file_with_bad_rows_changes_nothing_and_names_line_and_column(tmp_path):
    ProductFactory(external_id="A", stock=5)
    path = write(
        tmp_path,
        "product_id,on_hand,pack_size\nA,9,6\nNOPE,1,1\nA,2,1\n,1,1\nA,-1,0\n",
    )
    with pytest.raises(ImportValidationError) as caught:
        stock_import_file(path=path)
    messages = [str(error) for error in caught.value.errors]
    assert "line 3, column product_id: no product with this id (value 'NOPE')" in messages
    assert "line 4, column product_id: product appears twice in the file (value 'A')" in messages
    assert "line 5, column product_id: required value is empty" in messages
    assert any(message.startswith("line 6, column on_hand: expected a whole number") for message in messages)
    assert any(
        message.startswith("line 6, column pack_size: expected a whole number from 1") for message in messages
    )
    assert Product.objects.get(external_id="A").stock == 5
    assert not StockPolicy.objects.exists()
    err = StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_stock", str(path), stderr=err)
    assert "line 3, column product_id" in err.getvalue()


@pytest.mark.django_db
def test_units_on_order_are_imported_empty_is_nothing_and_a_file_without_them_keeps_them(tmp_path):
    ProductFactory(external_id="A", stock=4)
    ProductFactory(external_id="B", stock=9)
    StockPolicy.objects.create(product=Product.objects.get(external_id="B"), pack_size=6, on_order=30)
    stock_import_file(path=write(tmp_path, "product_id,on_hand,on_order\nA,5,48\nB,9,\n"))
    policies = {p.product.external_id: p for p in StockPolicy.objects.select_related("product")}
    assert policies["A"].on_order == 48
    assert policies["B"].on_order == 0 and policies["B"].pack_size == 6  # empty: nothing on order
    # the file of before (no on_order column) still imports and leaves the units on order as they are
    stock_import_file(
        path=write(tmp_path, "product_id,on_hand,lead_time_days,min_order_qty,pack_size\nA,3,14,24,6\n")
    )
    policy = StockPolicy.objects.get(product__external_id="A")
    assert (policy.on_order, policy.lead_time_days, policy.pack_size) == (48, 14, 6)
    # a new product's buying rules start with nothing on order
    ProductFactory(external_id="C")
    stock_import_file(path=write(tmp_path, "product_id,lead_time_days\nC,7\n"))
    assert StockPolicy.objects.get(product__external_id="C").on_order == 0


@pytest.mark.django_db
def test_bad_units_on_order_change_nothing_and_name_line_and_column(tmp_path):
    ProductFactory(external_id="A", stock=5)
    ProductFactory(external_id="B", stock=5)
    path = write(tmp_path, "product_id,on_hand,on_order\nA,6,12\nB,6,-3\nA,6,1.5\n")
    with pytest.raises(ImportValidationError) as caught:
        stock_import_file(path=path)
    messages = [str(error) for error in caught.value.errors]
    assert any(
        message.startswith("line 3, column on_order: expected a whole number from 0") for message in messages
    )
    assert any(
        message.startswith("line 4, column on_order: expected a whole number from 0") for message in messages
    )
    assert not StockPolicy.objects.exists() and Product.objects.get(external_id="A").stock == 5


@pytest.mark.django_db
def test_unknown_or_missing_columns_are_refused(tmp_path):
    with pytest.raises(ImportValidationError, match="line 1, column colour: unknown column"):
        stock_import_file(path=write(tmp_path, "product_id,colour\nA,red\n"))
    with pytest.raises(ImportValidationError, match="column product_id: required column is missing"):
        stock_import_file(path=write(tmp_path, "on_hand\n1\n"))


@pytest.mark.django_db
def test_demo_stock_is_plausible_and_the_same_on_every_run(small_shop):
    from inventory.services.demo import demo_stock_seed

    def snapshot():
        return sorted(
            StockPolicy.objects.values_list(
                "product__external_id", "product__stock", "lead_time_days", "min_order_qty", "pack_size"
            )
        )

    demo_stock_seed()
    first = snapshot()
    Product.objects.update(stock=None)
    demo_stock_seed()
    assert snapshot() == first
    assert len(first) == Product.objects.count()
    for _, on_hand, lead_time, min_order, pack in first:
        assert on_hand >= 0 and 7 <= lead_time <= 42 and pack >= 1 and min_order % pack == 0
    # packs of at most a quarter of a week's sales over the last 13 weeks: SLOW sells 10 a week, FAST
    # 30 a week and 2,000 more after AS_OF (about 46 a quarter week)
    packs = {row[0]: row[4] for row in first}
    assert packs["SLOW"] == 1 and packs["FAST"] == 24


@pytest.mark.django_db
def test_import_stock_counts_one_error_as_one_error(tmp_path):
    """It said "1 errors; nothing imported."."""
    ProductFactory(external_id="A", stock=5)
    path = tmp_path / "stock.csv"
    path.write_text("product_id,on_hand\nA,7\nNOPE,3\n")
    with pytest.raises(CommandError, match=r"^1 error; nothing imported\.$"):
        call_command("import_stock", str(path), stderr=StringIO())

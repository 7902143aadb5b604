"""Pseudonymized exports (keyed hash instead of customer ids) and CSV cells that cannot run as formulas."""

import csv
import io

import pytest
from django.core.management import call_command

from crm.csv_safety import csv_safe_cell, csv_safe_writer
from crm.models import AuditEvent
from crm.pseudonyms import pseudonymize
from tests.factories import (
    CustomerFactory,
    CustomerSegmentFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    PromotionFactory,
    PromotionTargetFactory,
    RecommendationFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = ['=HYPERLINK("http://x")', "+SUM(A1)", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\tTab", "\rCR"]


def read(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("value", HOSTILE_NAMES)
def test_a_cell_that_could_start_a_formula_is_written_as_text(value):
    assert csv_safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-3", "+1.5", "-0.25", "1e-3", "Mug", "", "a=b", 7, -7, None])
def test_numbers_and_plain_text_keep_their_value(value):
    assert csv_safe_cell(value) == value


def test_the_writer_neutralises_every_cell():
    out = io.StringIO()
    csv_safe_writer(out).writerow(["=1+1", "-5", "@x", 3])
    assert out.getvalue() == "'=1+1,-5,'@x,3\r\n"


def test_pseudonyms_are_stable_keyed_and_not_the_id(settings):
    settings.PSEUDONYMIZATION_KEY = "first-key"
    first = pseudonymize("C00042")
    assert first == pseudonymize("C00042") and first != pseudonymize("C00043")
    assert "C00042" not in first and first.startswith("p_") and len(first) == 34
    settings.PSEUDONYMIZATION_KEY = "another-key"
    assert pseudonymize("C00042") != first


def test_export_orders_pseudonymized_and_safe(tmp_path):
    customer = CustomerFactory(external_id="=cmd|calc", name="Eve")
    for number, name in enumerate(HOSTILE_NAMES):
        product = ProductFactory(external_id=f"-P{number}", name=name)
        OrderLineFactory(order=OrderFactory(customer=customer), product=product, quantity=-2, item_name="")
    plain, hashed = tmp_path / "plain.csv", tmp_path / "hashed.csv"

    call_command("export_orders", "--out", str(plain), stdout=io.StringIO())
    call_command("export_orders", "--out", str(hashed), "--pseudonymize", stdout=io.StringIO())

    plain_rows, hashed_rows = read(plain), read(hashed)
    assert {row["customer_id"] for row in plain_rows} == {"'=cmd|calc"}
    assert {row["customer_id"] for row in hashed_rows} == {pseudonymize("=cmd|calc")}
    assert sorted(row["product_name"] for row in plain_rows) == sorted("'" + name for name in HOSTILE_NAMES)
    assert {row["product_id"][:3] for row in plain_rows} == {"'-P"}
    assert {row["quantity"] for row in plain_rows} == {"-2"}  # a return's quantity stays a number
    assert "=cmd|calc" not in hashed.read_text()
    # only the export with customer ids counts as an export of personal data
    audit = AuditEvent.objects.get(action="personal_data_exported")
    assert audit.via == "command" and audit.detail == {"rows": len(HOSTILE_NAMES)}


def test_export_segments_and_targets_pseudonymized_without_emails(tmp_path):
    customer = CustomerFactory(external_id="C7", email="c7@example.test", email_opt_in=True)
    CustomerSegmentFactory(customer=customer)
    promotion = PromotionFactory(status="ready")
    PromotionTargetFactory(promotion=promotion, customer=customer)
    segments, targets = tmp_path / "segments.csv", tmp_path / "targets.csv"

    call_command("export_segments", "--out", str(segments), "--pseudonymize", stderr=io.StringIO())
    call_command(
        "export_promotion_targets",
        str(promotion.pk),
        "--out",
        str(targets),
        "--pseudonymize",
        stderr=io.StringIO(),
    )

    assert [row["customer_id"] for row in read(segments)] == [pseudonymize("C7")]
    target_rows = read(targets)
    assert list(target_rows[0]) == ["customer_id", "group", "rank", "score", "expected_value"]
    assert target_rows[0]["customer_id"] == pseudonymize("C7")
    assert "c7@example.test" not in targets.read_text() and "C7," not in segments.read_text()
    assert not AuditEvent.objects.exists()


def test_export_recommendations_pseudonymized_and_safe(tmp_path):
    recommendation = RecommendationFactory(
        customer=CustomerFactory(external_id="C9"), product=ProductFactory(external_id="@P1"), rank=1
    )
    out = tmp_path / "recs.csv"

    call_command(
        "export_recommendations", "--out", str(out), "--pseudonymize", "--no-progress", stdout=io.StringIO()
    )

    rows = read(out)
    assert [(row["customer_id"], row["product_id"]) for row in rows] == [(pseudonymize("C9"), "'@P1")]
    assert recommendation.model_version.status == "active"
    assert not AuditEvent.objects.exists()


def test_an_exported_file_with_neutralised_cells_imports_back_unchanged(tmp_path):
    from crm.models import Customer, Order, Product
    from crm.services.importing import import_order_file

    customer = CustomerFactory(external_id="=C1")
    for number, name in enumerate(HOSTILE_NAMES[:4]):
        product = ProductFactory(external_id=f"@P{number}", name=name)
        OrderLineFactory(order=OrderFactory(customer=customer), product=product, item_name="")
    names = dict(Product.objects.values_list("external_id", "name"))
    out = tmp_path / "orders.csv"
    call_command("export_orders", "--out", str(out), stdout=io.StringIO())
    Order.objects.all().delete()
    Product.objects.all().delete()
    Customer.objects.all().delete()

    import_order_file(path=out)

    assert dict(Product.objects.values_list("external_id", "name")) == names
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["=C1"]

"""Every management command in the README's table, run with the options the README shows for it.

The walk goes as a newcomer's first hour would: make a shop, import a file, train, export, segment,
target. Commands are run through their real argument parsers (``call_command`` with an argv list), so an
option that clashes with Django's own (``--version``) fails here as it fails on the command line.
"""

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from crm.models import Customer, Order, Promotion
from recommender.models import ModelVersion, Recommendation
from tests.conftest import wait_for_job

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CANONICAL_SMALL = ROOT / "tests" / "crm" / "data" / "canonical_small.csv"
FAST = json.dumps({"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1})

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def readme_commands() -> dict[str, set[str]]:
    """``{command: {--option, ...}}`` from the README's management-commands table."""
    text = README.read_text()
    table = text.split("## Management commands", 1)[1].split("\n### ", 1)[0]
    documented: dict[str, set[str]] = {}
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        first_cell = row.split(" | ")[0]
        for usage in re.findall(r"`([^`]+)`", first_cell):
            name = usage.split()[0]
            documented.setdefault(name, set()).update(re.findall(r"--[a-z][a-z-]*", usage))
    return documented


def run(name: str, *argv: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(name, *argv, stdout=out, stderr=StringIO())
    return out.getvalue()


def csv_rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_readme_table_is_what_this_walk_runs():
    # the walk below must cover every command and option the README shows
    documented = readme_commands()
    assert set(documented) == set(WALKED_OPTIONS), "README commands and the walk differ"
    for name, options in documented.items():
        assert options <= WALKED_OPTIONS[name], f"{name}: {options - WALKED_OPTIONS[name]} not run"


WALKED_OPTIONS = {
    "generate_demo_data": {"--customers", "--products", "--orders", "--seed"},
    "import_orders": {"--format", "--skip-invalid", "--rejects"},
    "export_orders": {"--out", "--pseudonymize"},
    "train_recommender": {"--wait", "--inline", "--no-activate"},
    "activate_model": set(),
    "export_recommendations": {"--top", "--out", "--model-version", "--pseudonymize"},
    "compute_segments": {"--as-of", "--wait"},
    "export_segments": {"--out", "--pseudonymize"},
    "compute_promotion_targets": {"--wait"},
    "export_promotion_targets": {"--out", "--group", "--pseudonymize"},
    "import_stock": set(),
    "forecast_demand": {"--as-of", "--horizon", "--wait"},
    "export_forecast": {"--out", "--freq"},
    "export_replenishment": {"--out"},
    "setup_demo": {"--keep-dates"},
    "erase_customer": {"--yes"},
}


def test_every_documented_command_runs_with_its_documented_options(tmp_path, celery_worker_process):
    # a synthetic shop, then a canonical file on top of it
    run("generate_demo_data", "--customers", "150", "--products", "60", "--orders", "1500", "--seed", "7")
    assert Customer.objects.count() == 150 and Order.objects.count() == 1500

    rejects = tmp_path / "rejects.csv"
    run(
        "import_orders",
        str(CANONICAL_SMALL),
        "--format",
        "canonical",
        "--skip-invalid",
        "--rejects",
        str(rejects),
    )
    assert Order.objects.filter(external_id="W1").exists()

    orders_csv = tmp_path / "orders.csv"
    run("export_orders", "--out", str(orders_csv))
    assert len(csv_rows(orders_csv)) > 1500
    hashed_orders_csv = tmp_path / "orders-pseudonymized.csv"
    run("export_orders", "--out", str(hashed_orders_csv), "--pseudonymize")
    hashed_ids = {row["customer_id"] for row in csv_rows(hashed_orders_csv)} - {""}
    assert hashed_ids and all(customer_id.startswith("p_") for customer_id in hashed_ids)

    # a version trained in this process and not served, then one trained by the worker and served
    run("train_recommender", "--inline", "--no-activate", "--force", "--config", FAST)
    unserved = ModelVersion.objects.latest("pk")
    assert unserved.status == ModelVersion.Status.READY
    run("train_recommender", "--wait", "--force", "--no-progress", "--config", FAST)
    served = ModelVersion.objects.active().get()
    assert served.pk != unserved.pk

    # the export of the README, of the served version
    recs_csv = tmp_path / "recs.csv"
    output = run("export_recommendations", "--top", "10", "--out", str(recs_csv), "--no-progress")
    assert f"model version {served.pk}" in output
    rows = csv_rows(recs_csv)
    assert list(rows[0]) == ["customer_id", "product_id", "rank", "score", "reason"]
    per_customer: dict[str, list[int]] = {}
    for row in rows:
        per_customer.setdefault(row["customer_id"], []).append(int(row["rank"]))
    assert per_customer and all(ranks == list(range(1, len(ranks) + 1)) for ranks in per_customer.values())
    assert max(len(ranks) for ranks in per_customer.values()) == 10
    served_customers = Recommendation.objects.filter(model_version=served).values("customer").distinct()
    assert len(per_customer) == served_customers.count()

    hashed_recs_csv = tmp_path / "recs-pseudonymized.csv"
    run(
        "export_recommendations",
        "--top",
        "10",
        "--out",
        str(hashed_recs_csv),
        "--no-progress",
        "--pseudonymize",
    )
    assert {row["customer_id"][:2] for row in csv_rows(hashed_recs_csv)} == {"p_"}

    # and of another version, by its id
    other_csv = tmp_path / "other.csv"
    run("export_recommendations", "--top", "5", "--out", str(other_csv), "--model-version", str(unserved.pk))
    assert max(int(row["rank"]) for row in csv_rows(other_csv)) == 5

    # roll back to the first version
    run("activate_model", str(unserved.pk))
    assert ModelVersion.objects.active().get().pk == unserved.pk

    latest_order = Order.objects.latest("placed_at").placed_at.date()
    as_of = (latest_order + dt.timedelta(days=1)).isoformat()
    run("compute_segments", "--as-of", as_of, "--wait", "--no-progress")
    segments_csv = tmp_path / "segments.csv"
    run("export_segments", "--out", str(segments_csv))
    assert len(csv_rows(segments_csv)) > 0
    hashed_segments_csv = tmp_path / "segments-pseudonymized.csv"
    run("export_segments", "--out", str(hashed_segments_csv), "--pseudonymize")
    assert len(csv_rows(hashed_segments_csv)) == len(csv_rows(segments_csv))

    promotion = Promotion.objects.create(
        name="Walk",
        discount_percent=10,
        audience_size=50,
        starts_on=latest_order,
        ends_on=latest_order + dt.timedelta(days=14),
    )
    promotion.products.set(unserved.recommendations.values_list("product", flat=True)[:3])
    run("compute_promotion_targets", str(promotion.pk), "--wait", "--no-progress")
    targets_csv = tmp_path / "targets.csv"
    run("export_promotion_targets", str(promotion.pk), "--out", str(targets_csv))
    assert len(csv_rows(targets_csv)) > 0
    send_list_csv = tmp_path / "send-list.csv"
    run("export_promotion_targets", str(promotion.pk), "--out", str(send_list_csv), "--group", "target")
    assert {row["group"] for row in csv_rows(send_list_csv)} == {"target"}
    hashed_targets_csv = tmp_path / "targets-pseudonymized.csv"
    run("export_promotion_targets", str(promotion.pk), "--out", str(hashed_targets_csv), "--pseudonymize")
    assert "email" not in csv_rows(hashed_targets_csv)[0]

    # the right to be forgotten: a customer with orders, erased; the orders stay
    erased = Customer.objects.filter(orders__isnull=False).first()
    orders = erased.orders.count()
    output = run("erase_customer", erased.external_id, "--yes")
    assert f"{orders:,} order{'s' if orders != 1 else ''} kept anonymously" in output
    assert not Customer.objects.filter(external_id=erased.external_id).exists()
    assert Order.objects.filter(customer__anonymous=True).count() == orders

    # stock for every product, a forecast in the worker, and its exports
    from crm.models import Product

    stock_csv = tmp_path / "stock.csv"
    products = list(Product.objects.order_by("external_id").values_list("external_id", flat=True))
    stock_csv.write_text(
        "product_id,on_hand,lead_time_days,min_order_qty,pack_size\n"
        + "".join(f"{external_id},{index % 7 * 5},14,12,6\n" for index, external_id in enumerate(products))
    )
    assert f"{len(products)} rows" in run("import_stock", str(stock_csv))
    output = run("forecast_demand", "--as-of", as_of, "--horizon", "14", "--wait", "--no-progress")
    assert "Forecast run" in output and "Done." in output
    forecast_csv = tmp_path / "forecast.csv"
    run("export_forecast", "--out", str(forecast_csv), "--freq", "week")
    weeks = csv_rows(forecast_csv)
    assert list(weeks[0]) == ["product_id", "date", "forecast", "lower", "upper"]
    assert {row["date"] for row in weeks} == {as_of, (latest_order + dt.timedelta(days=8)).isoformat()}
    replenishment_csv = tmp_path / "replenishment.csv"
    run("export_replenishment", "--out", str(replenishment_csv))
    assert len(csv_rows(replenishment_csv)) == len({row["product_id"] for row in weeks})

    # setup_demo on a shop that has orders: no import, logins made, a training and a segment run queued
    output = run("setup_demo", "--keep-dates")
    assert "Demo ready." in output and "skipping the import" in output
    from core.models import Job

    for job in Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]):
        wait_for_job(job.pk, timeout=600)

import csv
import datetime as dt
from io import StringIO

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from inventory.models import ForecastRun, ProductForecast, StockPolicy
from inventory.selectors import (
    forecast_export_csv,
    product_ids_at_risk_before_delivery,
    replenishment_at_risk,
    replenishment_export_csv,
    replenishment_frame,
    replenishment_overstock,
)
from inventory.services.forecasts import forecast_default_as_of, forecast_run_create
from tests.inventory.conftest import AS_OF


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(StringIO(text)))


@pytest.mark.django_db
def test_a_run_forecasts_products_sold_in_the_last_year_from_sale_lines_before_the_as_of_date(small_shop):
    run = forecast_run_create(as_of=AS_OF, horizon_days=14)
    forecasts = {
        f.product.external_id: f for f in ProductForecast.objects.filter(run=run).select_related("product")
    }
    assert set(forecasts) == {"FAST", "SLOW", "RARE"}  # OLD last sold two years ago
    assert run.product_count == 3 and sum(run.model_counts.values()) == 3
    # 6 units each weekday: returns, cancelled orders and sales from the as-of date on do not count
    assert forecasts["FAST"].total == pytest.approx(60, rel=0.05)
    assert forecasts["SLOW"].total == pytest.approx(20, rel=0.05)
    assert len(forecasts["FAST"].daily) == 14
    weekend = [(AS_OF + dt.timedelta(days=i)).weekday() >= 5 for i in range(14)]
    assert max(v for v, w in zip(forecasts["FAST"].daily, weekend, strict=True) if w) == pytest.approx(
        0, abs=0.01
    )
    assert run.backtest["all"]["products"] == 3


@pytest.mark.django_db
def test_default_as_of_is_the_day_after_the_latest_order(small_shop):
    assert forecast_default_as_of() == AS_OF + dt.timedelta(days=3)


@pytest.mark.django_db
def test_forecast_export_by_day_and_by_week(small_shop):
    run = forecast_run_create(as_of=AS_OF, horizon_days=14)
    out = StringIO()
    assert forecast_export_csv(run=run, out=out) == 42
    rows = rows_of(out.getvalue())
    assert list(rows[0]) == ["product_id", "date", "forecast", "lower", "upper"]
    assert rows[0]["product_id"] == "FAST" and rows[0]["date"] == AS_OF.isoformat()
    out = StringIO()
    assert forecast_export_csv(run=run, out=out, freq="week") == 6
    weeks = [row for row in rows_of(out.getvalue()) if row["product_id"] == "FAST"]
    assert [row["date"] for row in weeks] == [AS_OF.isoformat(), (AS_OF + dt.timedelta(days=7)).isoformat()]
    for row in weeks:
        assert float(row["lower"]) <= float(row["forecast"]) <= float(row["upper"])
        assert float(row["forecast"]) == pytest.approx(30, rel=0.05)


def test_at_risk_leaves_out_products_nobody_is_forecast_to_buy_and_puts_the_most_demand_first():
    frame = pd.DataFrame(
        {
            "product_id": ["A-QUIET", "B-EMPTY", "C-BUSY", "D-LATER", "E-SAFE"],
            "stockout_days": [0, 0, 0, 3, -1],
            "lead_time_days": [14, 14, 14, 14, 14],
            "weekly_demand": [0.5, 0.0, 40.0, 90.0, 5.0],
        }
    )

    # B-EMPTY is out of stock but loses no sale; on the same day the busier product comes first
    assert replenishment_at_risk(frame=frame)["product_id"].tolist() == ["C-BUSY", "A-QUIET", "D-LATER"]


@pytest.mark.django_db
def test_replenishment_from_the_run_and_todays_stock(small_shop):
    StockPolicy.objects.create(product=small_shop["slow"], lead_time_days=7, pack_size=10, min_order_qty=50)
    run = forecast_run_create(as_of=AS_OF, horizon_days=28)
    frame = replenishment_frame(run=run).set_index("product_id")
    assert set(frame.index) == {"FAST", "SLOW"}  # RARE's stock is not tracked
    fast = frame.loc["FAST"]
    # 40 on hand, 6 a weekday from Monday the 4th: Mon-Fri 30, Mon 36, Tue 42 -> out on Tuesday the 12th
    assert fast["stockout_date"] == AS_OF + dt.timedelta(days=8)
    assert fast["lead_time_days"] == 14  # the setting's default
    assert fast["reorder_point"] >= 60 + fast["safety_stock"] - 1
    assert fast["order_quantity"] > 0
    slow = frame.loc["SLOW"]
    assert slow["order_quantity"] == 0 and slow["weeks_of_cover"] > 12
    assert replenishment_at_risk(frame=frame.reset_index())["product_id"].tolist() == ["FAST"]
    assert replenishment_overstock(frame=frame.reset_index())["product_id"].tolist() == ["SLOW"]
    assert product_ids_at_risk_before_delivery() == {small_shop["fast"].pk}
    out = StringIO()
    replenishment_export_csv(out=out, run=run)
    rows = rows_of(out.getvalue())
    assert list(rows[0]) == [
        "product_id",
        "on_hand",
        "lead_time_days",
        "reorder_point",
        "safety_stock",
        "stockout_date",
        "order_quantity",
        "on_order",
        "name",
    ]
    assert {row["product_id"]: row["stockout_date"] for row in rows}["FAST"] == "2024-03-12"


@pytest.mark.django_db
def test_units_on_order_lower_the_suggested_order_but_not_the_stock_out_date(small_shop):
    run = forecast_run_create(as_of=AS_OF, horizon_days=28)
    before = replenishment_frame(run=run).set_index("product_id").loc["FAST"]
    assert before["on_order"] == 0 and before["order_quantity"] > 10
    StockPolicy.objects.create(product=small_shop["fast"], on_order=10)
    after = replenishment_frame(run=run).set_index("product_id").loc["FAST"]
    assert after["on_order"] == 10
    assert after["order_quantity"] == before["order_quantity"] - 10
    assert after["stockout_date"] == before["stockout_date"] == AS_OF + dt.timedelta(days=8)
    StockPolicy.objects.filter(product=small_shop["fast"]).update(on_order=10_000)
    assert replenishment_frame(run=run).set_index("product_id").loc["FAST"]["order_quantity"] == 0
    out = StringIO()
    replenishment_export_csv(out=out, run=run)
    assert {row["product_id"]: row["on_order"] for row in rows_of(out.getvalue())}["FAST"] == "10000"


@pytest.mark.django_db
def test_the_service_measure_setting_reaches_the_plan(small_shop, settings):
    run = forecast_run_create(as_of=AS_OF, horizon_days=28)
    settings.INVENTORY_SERVICE_MEASURE = "cycle"
    cycle = replenishment_frame(run=run).set_index("product_id").loc["FAST"]
    settings.INVENTORY_SERVICE_MEASURE = "fill_rate"
    fill_rate = replenishment_frame(run=run).set_index("product_id").loc["FAST"]
    # a steady seller (6 a weekday) needs less safety stock for 95% of its units than for 95% of cycles
    assert fill_rate["safety_stock"] < cycle["safety_stock"]


@pytest.mark.django_db
def test_at_risk_products_are_not_avoided_when_the_setting_is_off(small_shop, settings):
    forecast_run_create(as_of=AS_OF, horizon_days=28)
    settings.INVENTORY_AVOID_STOCKOUTS = False
    assert product_ids_at_risk_before_delivery() == set()


@pytest.mark.django_db
def test_old_runs_are_pruned_and_exports_need_a_run(small_shop, tmp_path):
    with pytest.raises(CommandError, match="No forecast yet"):
        call_command("export_forecast", "--out", str(tmp_path / "f.csv"))
    with pytest.raises(CommandError, match="No forecast yet"):
        call_command("export_replenishment", "--out", str(tmp_path / "r.csv"))
    for _ in range(6):
        forecast_run_create(as_of=AS_OF, horizon_days=7)
    assert ForecastRun.objects.count() == 5


@pytest.mark.django_db
def test_the_nightly_forecast_is_a_job_like_any_other(small_shop, eager_celery):
    from core.models import Job
    from inventory.tasks import forecast_demand_task, scheduled_forecast_task

    scheduled_forecast_task.delay()
    job = Job.objects.get(kind=Job.Kind.FORECAST)
    assert job.status == Job.Status.SUCCEEDED and job.progress == 1.0
    # run by the job machinery of every task: claimed once, and sent again by the sweep if it is lost
    assert job.deliveries == 1 and (job.task_name, job.task_args) == (forecast_demand_task.name, [job.pk])
    forecast_demand_task.delay(job.pk)
    assert ForecastRun.objects.count() == 1
    run = ForecastRun.objects.get()
    assert job.result["forecast_run_id"] == run.pk and run.job_id == job.pk
    assert run.as_of == AS_OF + dt.timedelta(days=3) and run.horizon_days == 28


@pytest.mark.django_db
def test_a_shop_without_sales_gets_an_empty_run():
    run = forecast_run_create(as_of=AS_OF, horizon_days=7)
    assert run.product_count == 0 and not ProductForecast.objects.exists()
    assert replenishment_frame(run=run).empty and product_ids_at_risk_before_delivery() == set()


@pytest.mark.django_db
def test_the_reorder_and_forecast_csvs_write_a_formula_id_as_text(small_shop):
    """A product id imported as ``=2+5`` reached the reorder CSV as a live formula."""
    from crm.models import Product

    Product.objects.filter(external_id="FAST").update(external_id="=HYPERLINK(1)")
    run = forecast_run_create(as_of=AS_OF, horizon_days=14)
    for export in (replenishment_export_csv, forecast_export_csv):
        out = StringIO()
        export(run=run, out=out)
        ids = {row["product_id"] for row in rows_of(out.getvalue())}
        assert "'=HYPERLINK(1)" in ids and "=HYPERLINK(1)" not in ids, export.__name__

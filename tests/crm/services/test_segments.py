import csv
import datetime as dt
import io
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Job
from crm.models import Customer, CustomerSegment, Order, OrderLine, SegmentRun
from crm.selectors import marketing as selectors
from crm.services.segments import purchase_day_frame, segments_compute
from crm.tasks.marketing import segments_enqueue
from tests.conftest import wait_for_job
from tests.factories import CustomerFactory, ProductFactory

AS_OF = dt.date(2024, 6, 30)


def _shop_history(customers: int = 40, seed: int = 3) -> list[Customer]:
    """Customers buying at their own rate until they lapse, from January 2024, in one bulk write."""
    rng = np.random.default_rng(seed)
    product = ProductFactory()
    people = Customer.objects.bulk_create(
        [Customer(external_id=f"K{index:04d}", email=f"k{index}@example.com") for index in range(customers)]
    )
    start = timezone.make_aware(dt.datetime(2024, 1, 1, 12))
    orders = []
    for person in people:
        rate_per_day, lifetime = rng.gamma(0.8, 1 / 30), rng.exponential(120)
        day = int(rng.integers(0, 60))
        while not orders or orders[-1].customer != person or (day < 180 and day < lifetime):
            placed = start + dt.timedelta(days=day)
            orders.append(Order(external_id=f"O{len(orders):06d}", customer=person, placed_at=placed))
            day += 1 + int(rng.exponential(1 / rate_per_day))
    Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                line_number=1,
                product=product,
                item_code=product.external_id,
                quantity=int(rng.integers(1, 4)),
                unit_price=Decimal(str(round(float(rng.gamma(3, 5)), 2))),
            )
            for order in orders
        ]
    )
    return people


@pytest.mark.django_db
def test_purchase_days_net_returns_and_skip_cancelled_orders_and_guests():
    customer = CustomerFactory()
    product = ProductFactory()
    noon = timezone.make_aware(dt.datetime(2024, 6, 1, 12))
    kept = Order.objects.create(external_id="A", customer=customer, placed_at=noon)
    OrderLine.objects.create(
        order=kept, line_number=1, product=product, item_code="P", quantity=2, unit_price=10
    )
    OrderLine.objects.create(order=kept, line_number=2, item_code="POST", quantity=1, unit_price=3)
    OrderLine.objects.create(
        order=kept, line_number=3, product=product, item_code="P", quantity=-1, unit_price=10
    )
    cancelled = Order.objects.create(
        external_id="B", customer=customer, placed_at=noon, status=Order.Status.CANCELLED
    )
    OrderLine.objects.create(
        order=cancelled, line_number=1, product=product, item_code="P", quantity=5, unit_price=10
    )
    guest = Order.objects.create(external_id="C", customer=None, placed_at=noon)
    OrderLine.objects.create(
        order=guest, line_number=1, product=product, item_code="P", quantity=5, unit_price=10
    )
    # a return order (a cancellation invoice of the UCI layout) on a later day lowers that day's spend
    returned = Order.objects.create(
        external_id="CA",
        customer=customer,
        placed_at=noon + dt.timedelta(days=2),
        status=Order.Status.RETURNED,
    )
    OrderLine.objects.create(
        order=returned, line_number=1, product=product, item_code="P", quantity=-1, unit_price=10
    )
    later = Order.objects.create(external_id="D", customer=customer, placed_at=noon + dt.timedelta(days=40))
    OrderLine.objects.create(
        order=later, line_number=1, product=product, item_code="P", quantity=1, unit_price=10
    )

    frame = purchase_day_frame(until=dt.date(2024, 6, 30)).sort_values("day")

    assert frame[["customer_id", "amount"]].values.tolist() == [[customer.pk, 13.0], [customer.pk, -10.0]]
    assert frame["day"].tolist() == [np.datetime64("2024-06-01"), np.datetime64("2024-06-03")]


@pytest.mark.django_db
def test_segments_compute_writes_a_snapshot_and_export_segments_writes_it(tmp_path):
    people = _shop_history()
    newcomer = CustomerFactory()  # never bought: not segmented

    run = segments_compute(as_of=AS_OF)

    assert run.as_of == AS_OF
    assert run.customer_count == len(people) == run.segments.count()
    assert not run.segments.filter(customer=newcomer).exists()
    assert sum(run.group_counts.values()) == len(people)
    assert set(run.group_counts) == set(CustomerSegment.RfmGroup.values)
    assert selectors.segment_group_counts(run=run) == run.group_counts
    assert set(run.parameters["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert all(value > 0 for value in run.parameters["bgnbd"].values())
    # a few months of history: no year-back backtest, so no seasonal correction, and the run says why
    assert run.parameters["seasonal_correction"]["factors"] == {"90": 1.0, "365": 1.0}
    assert "year and a half" in run.parameters["seasonal_correction"]["reason"]
    segments = list(run.segments.all())
    assert all(0 <= segment.p_alive <= 1 for segment in segments)
    assert all(segment.churn_risk == pytest.approx(1 - segment.p_alive) for segment in segments)
    assert sum(segment.high_value for segment in segments) == 4  # top decile of 40
    assert all(1 <= segment.r_score <= 5 for segment in segments)

    # when exported
    out = tmp_path / "segments.csv"
    call_command("export_segments", "--out", str(out), stderr=io.StringIO())

    # then one row per customer with the retailer's ids and the run's values
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == [
        "customer_id",
        "rfm_group",
        "r",
        "f",
        "m",
        "expected_purchases_90d",
        "p_alive",
        "predicted_clv_12m",
        "high_value",
        "churn_risk",
    ]
    assert len(rows) == len(people)
    stored = {s.customer.external_id: s for s in run.segments.select_related("customer")}
    for row in rows:
        assert row["rfm_group"] == stored[row["customer_id"]].rfm_group
        assert int(row["r"]) == stored[row["customer_id"]].r_score
    assert sum(int(row["high_value"]) for row in rows) == 4


@pytest.mark.django_db
def test_segment_movement_between_two_runs_and_latest_selectors():
    people = _shop_history()
    earlier = segments_compute(as_of=dt.date(2024, 4, 30))
    later = segments_compute(as_of=AS_OF)

    movement = selectors.segment_movement(from_run=earlier, to_run=later)

    both = set(earlier.segments.values_list("customer_id", flat=True))
    assert sum(count for _, _, count in movement) == len(both)
    expected: dict[tuple[str, str], int] = {}
    before = dict(earlier.segments.values_list("customer_id", "rfm_group"))
    for customer_id, group in later.segments.values_list("customer_id", "rfm_group"):
        if customer_id in before:
            expected[(before[customer_id], group)] = expected.get((before[customer_id], group), 0) + 1
    assert {(source, target): count for source, target, count in movement} == expected
    assert selectors.segment_run_latest() == later
    latest = selectors.customer_segment_latest(customer=people[0])
    assert latest.run == later
    with CaptureQueriesContext(connection) as queries:
        high_value = list(selectors.customer_list_high_value())
        names = [segment.customer.external_id for segment in high_value]
    assert len(queries) == 2  # the latest run, then its high-value customers with their rows
    assert len(names) == later.segments.filter(high_value=True).count()
    at_risk = list(selectors.customer_list_at_risk(run=later))
    assert all(
        segment.rfm_group in selectors.AT_RISK_GROUPS or (segment.high_value and segment.churn_risk > 0.5)
        for segment in at_risk
    )
    assert {segment.pk for segment in at_risk} >= set(
        later.segments.filter(rfm_group="at_risk").values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_too_little_history_still_gives_rfm_groups():
    _shop_history(customers=1)
    run = segments_compute(as_of=AS_OF)
    assert run.customer_count == 1
    assert "not fitted" in run.parameters["clv"]
    assert run.segments.get().p_alive == 1.0


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_compute_segments_runs_in_a_real_worker(celery_worker_process):
    # given order history committed to the database
    _shop_history(customers=30)
    out = io.StringIO()

    # when the command queues the job and waits for it
    call_command("compute_segments", "--as-of", "2024-06-30", "--wait", "--no-progress", stdout=out)

    # then the worker wrote the run and the command reported it
    job = Job.objects.filter(kind=Job.Kind.SEGMENTS).latest("created_at")
    assert job.status == Job.Status.SUCCEEDED, job.error
    run = SegmentRun.objects.get(pk=job.result["segment_run_id"])
    assert run.job_id == job.pk and run.customer_count == 30
    assert "bgnbd: r=" in out.getvalue()
    assert (
        "seasonal correction: x1.0 over 90 days, x1.0 over 365 days (the history starts after"
        in out.getvalue()
    )
    assert "champions" in out.getvalue()

    # a run without --wait only queues; the job finishes in the worker all the same
    queued = segments_enqueue(as_of=AS_OF)
    assert wait_for_job(queued.pk, timeout=120).status == Job.Status.SUCCEEDED


@pytest.mark.django_db
def test_without_a_date_segments_are_as_of_the_end_of_the_order_history():
    # given an order history that ended in 2024 (a historic data set such as the demo's)
    _shop_history(customers=12)
    latest = Order.objects.order_by("-placed_at").first().placed_at

    # when segments are computed without a date
    run = segments_compute()

    # then recency is measured from the day after the last order, not from today
    assert run.as_of == timezone.localdate(latest) + dt.timedelta(days=1)
    assert CustomerSegment.objects.filter(run=run).order_by("recency_days").first().recency_days <= 1

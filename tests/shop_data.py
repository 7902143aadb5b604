"""A small shop with every kind of row the staff portal and the shop pages show (``build_shop_data``);
the ``shop_data`` fixture of tests/conftest.py builds it around the signed-in shopper."""

import datetime as dt
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from core.models import Job
from crm.models import CustomerSegment, Order, SegmentRun
from recommender.models import ModelVersion
from tests.factories import (
    BehaviourEventFactory,
    CategoryFactory,
    CustomerFactory,
    CustomerSegmentFactory,
    JobFactory,
    ModelVersionFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ProductNeighbourFactory,
    PromotionFactory,
    PromotionTargetFactory,
    RecommendationFactory,
    SegmentRunFactory,
)

# The demo data ends in December 2011; pages must work relative to the data, not to today.
LATEST_ORDER_AT = dt.datetime(2011, 12, 9, 12, 0, tzinfo=dt.UTC)

METRICS = {
    "mlp": {"ndcg@10": 0.376, "recall@10": 0.18, "hitrate@10": 0.61},
    "personal_top": {"ndcg@10": 0.355, "recall@10": 0.169, "hitrate@10": 0.58},
    "popular": {"ndcg@10": 0.12, "recall@10": 0.043, "hitrate@10": 0.3},
    "item_knn": {"ndcg@10": 0.168, "recall@10": 0.07, "hitrate@10": 0.35},
    "als": {"ndcg@10": 0.256, "recall@10": 0.118, "hitrate@10": 0.45},
}


def build_shop_data(size: int, *, shopper=None) -> dict:
    """A small shop with ``size`` customers, each with orders, segments, recommendations and events.

    Two sizes of this (e.g. 2 and 8) let the tests check that every page costs the same number of
    queries whatever the amount of data.
    """
    categories = [
        CategoryFactory(name="Home", path="Home"),
        CategoryFactory(name="Kitchen", path="Home/Kitchen"),
    ]
    products = [
        ProductFactory(category=categories[index % 2], price=Decimal("2.50") + index)
        for index in range(size + 3)
    ]
    # Calling this again adds customers to the same versions and runs, as more data would.
    old_version = ModelVersion.objects.filter(
        status=ModelVersion.Status.RETIRED
    ).first() or ModelVersionFactory(
        status=ModelVersion.Status.RETIRED,
        metrics={name: {**values, "ndcg@10": values["ndcg@10"] - 0.01} for name, values in METRICS.items()},
    )
    version = ModelVersion.objects.active().first() or ModelVersionFactory(
        status=ModelVersion.Status.ACTIVE,
        metrics=METRICS,
        scored_at=timezone.now(),
        trained_at=timezone.now(),
    )
    previous_run = SegmentRun.objects.filter(as_of=dt.date(2011, 11, 1)).first() or SegmentRunFactory(
        as_of=dt.date(2011, 11, 1)
    )
    run = SegmentRun.objects.filter(as_of=dt.date(2011, 12, 9)).first() or SegmentRunFactory(
        as_of=dt.date(2011, 12, 9)
    )
    customers = [
        CustomerFactory(country="United Kingdom" if index % 2 else "Germany") for index in range(size)
    ]
    if shopper is not None:
        customers.append(shopper)
    groups = CustomerSegment.RfmGroup.values
    for index, customer in enumerate(customers):
        for order_index in range(2):
            order = OrderFactory(
                customer=customer,
                placed_at=LATEST_ORDER_AT - dt.timedelta(days=7 + 25 * order_index + index),
                status=Order.Status.COMPLETED,
            )
            for line_index in range(2):
                OrderLineFactory(
                    order=order,
                    line_number=line_index + 1,
                    product=products[(index + line_index) % len(products)],
                    quantity=line_index + 1,
                    unit_price=Decimal("3.00"),
                )
        for segment_run in (previous_run, run):
            CustomerSegmentFactory(
                run=segment_run,
                customer=customer,
                rfm_group=groups[(index + (segment_run == run)) % len(groups)],
                high_value=index % 3 == 0,
                predicted_clv_12m=100.0 + index,
                churn_risk=0.1 * (index % 10),
            )
        for rank in range(3):
            RecommendationFactory(
                model_version=version,
                customer=customer,
                product=products[(index + rank + 1) % len(products)],
                rank=rank + 1,
                # as scoring writes them: placeholders already rendered to names
                reason=f"Bought with {products[index % len(products)].name}",
            )
        customer.notes.create(body=f"Called about order {index}")
        BehaviourEventFactory(
            customer=customer,
            product=products[0],
            kind="recommendation_impression",
            model_version_id=version.pk,
        )
    for product in products[:-1]:
        ProductNeighbourFactory(model_version=version, product=product, neighbour=products[-1], rank=1)
    run.group_counts = dict(
        run.segments.order_by().values("rfm_group").annotate(n=Count("pk")).values_list("rfm_group", "n")
    )
    run.customer_count = run.segments.count()
    run.save()
    for index in range(size):
        JobFactory(
            kind=Job.Kind.IMPORT,
            status=Job.Status.RUNNING if index % 2 else Job.Status.FAILED,
            progress=0.5,
            error="" if index % 2 else "Line 3, column quantity: not a number",
        )
    promotion = PromotionFactory(
        products=products[:2], starts_on=dt.date(2011, 12, 1), ends_on=dt.date(2011, 12, 31)
    )
    for index, customer in enumerate(customers):
        PromotionTargetFactory(
            promotion=promotion,
            customer=customer,
            rank=index + 1,
            group="control" if index % 4 == 0 else "target",
        )
    return {
        "products": products,
        "customers": customers,
        "version": version,
        "old_version": old_version,
        "run": run,
        "promotion": promotion,
        "categories": categories,
    }

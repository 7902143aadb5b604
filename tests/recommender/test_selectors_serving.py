"""Serving reads one version only; activation switches atomically and supports roll back."""

import pytest
from django.utils import timezone

from crm.models import Product
from recommender.models import ModelVersion, PopularProduct, ProductNeighbour, Recommendation
from recommender.selectors import (
    click_through_rate_by_version,
    recommendation_rows_for_customer,
    similar_product_list,
)
from recommender.services.activation import ActivationError, model_version_activate
from recommender.services.training import quality_gate
from tests.factories import BehaviourEventFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def scored_version(*, customer, products, status=ModelVersion.Status.READY, ndcg=0.4, prefix="v"):
    version = ModelVersion.objects.create(
        status=status,
        scored_at=timezone.now(),
        metrics={"mlp": {"ndcg@10": ndcg}, "personal_top": {"ndcg@10": 0.3}, "popular": {"ndcg@10": 0.1}},
    )
    for rank, product in enumerate(products, start=1):
        Recommendation.objects.create(
            model_version=version,
            customer=customer,
            product=product,
            rank=rank,
            score=1.0 / rank,
            reason=f"{prefix}{version.pk} reason {rank}",
        )
    return version


def test_only_the_active_version_is_served_and_activation_retires_the_previous_one():
    # given two scored versions with different lists for the same customer
    customer = CustomerFactory()
    products = ProductFactory.create_batch(4)
    first = scored_version(customer=customer, products=products[:2])
    second = scored_version(customer=customer, products=products[2:])

    # when the first is served
    model_version_activate(model_version=first)
    served = recommendation_rows_for_customer(customer=customer, limit=10)

    # then only its rows are read
    assert [row["product_id"] for row in served] == [product.pk for product in products[:2]]
    assert {row["model_version_id"] for row in served} == {first.pk}

    # when the second is activated, the first is retired and never mixed in
    model_version_activate(model_version=second)
    served = recommendation_rows_for_customer(customer=customer, limit=10)
    assert [row["product_id"] for row in served] == [product.pk for product in products[2:]]
    first.refresh_from_db()
    assert first.status == ModelVersion.Status.RETIRED
    assert ModelVersion.objects.active().get() == second

    # and rolling back serves the first list again
    model_version_activate(model_version=first)
    assert [row["product_id"] for row in recommendation_rows_for_customer(customer=customer)] == [
        product.pk for product in products[:2]
    ]


def test_unscored_or_failed_versions_cannot_be_activated():
    failed = ModelVersion.objects.create(status=ModelVersion.Status.FAILED, error="boom")
    with pytest.raises(ActivationError, match="cannot be activated"):
        model_version_activate(model_version=failed)
    unscored = ModelVersion.objects.create(status=ModelVersion.Status.READY)
    with pytest.raises(ActivationError, match="has not been scored"):
        model_version_activate(model_version=unscored)


def test_inactive_unpriced_and_out_of_stock_products_are_never_served():
    customer = CustomerFactory()
    shown, inactive, sold_out, unpriced = ProductFactory.create_batch(4)
    Product.objects.filter(pk=inactive.pk).update(active=False)
    Product.objects.filter(pk=sold_out.pk).update(stock=0)
    Product.objects.filter(pk=unpriced.pk).update(price=0)
    version = scored_version(customer=customer, products=[inactive, unpriced, shown, sold_out])
    model_version_activate(model_version=version)

    served = recommendation_rows_for_customer(customer=customer)

    assert [row["product_id"] for row in served] == [product.pk for product in [shown]]
    assert served[0]["rank"] == 1


def test_cold_start_customer_gets_popular_in_country_then_overall():
    # given a served version and a customer it never scored
    known = CustomerFactory()
    newcomer = CustomerFactory(country="France")
    local, overall_a, overall_b = ProductFactory.create_batch(3)
    version = scored_version(customer=known, products=[overall_a])
    PopularProduct.objects.create(model_version=version, country="France", product=local, rank=1, score=5)
    PopularProduct.objects.create(model_version=version, country="", product=overall_a, rank=1, score=9)
    PopularProduct.objects.create(model_version=version, country="", product=local, rank=2, score=8)
    PopularProduct.objects.create(model_version=version, country="", product=overall_b, rank=3, score=7)
    model_version_activate(model_version=version)

    served = recommendation_rows_for_customer(customer=newcomer, limit=3)

    assert [row["product_id"] for row in served] == [product.pk for product in [local, overall_a, overall_b]]
    assert served[0]["reason"] == "Popular in France"
    assert served[1]["reason"] == "Popular with our customers"


def test_before_any_version_is_served_shoppers_get_the_bestsellers_of_the_last_90_days():
    """The lists were empty until the first training was served, where /readyz says shoppers see
    popular products."""
    import datetime as dt

    from recommender.selectors import recommendation_rows_for_session
    from tests.factories import OrderFactory, OrderLineFactory

    now = timezone.now()
    mugs, jugs, old_hit, returned, unpriced = ProductFactory.create_batch(5)
    Product.objects.filter(pk=unpriced.pk).update(price=0)
    for customer, products in [
        (CustomerFactory(), [mugs, jugs, unpriced]),
        (CustomerFactory(), [mugs, unpriced]),
        (CustomerFactory(), [mugs, jugs, unpriced]),
    ]:
        order = OrderFactory(customer=customer, placed_at=now)
        for product in products:
            OrderLineFactory(order=order, product=product, quantity=1)
        OrderLineFactory(order=order, product=returned, quantity=-1)
    for _ in range(4):  # more buyers, but before the last 90 days
        OrderLineFactory(
            order=OrderFactory(placed_at=now - dt.timedelta(days=120)), product=old_hit, quantity=1
        )
    ModelVersion.objects.create(status=ModelVersion.Status.TRAINING)

    served = recommendation_rows_for_customer(customer=CustomerFactory(), limit=5)
    visitor = recommendation_rows_for_session(session_key="", limit=5)

    assert [row["product_id"] for row in served] == [mugs.pk, jugs.pk]
    assert [(row["rank"], row["score"], row["reason"]) for row in served] == [
        (1, 1.0, "Popular with our customers"),
        (2, pytest.approx(2 / 3), "Popular with our customers"),
    ]
    assert visitor == served


def test_bought_together_reads_the_served_version_and_skips_unavailable_neighbours():
    customer = CustomerFactory()
    product, neighbour, hidden = ProductFactory.create_batch(3)
    Product.objects.filter(pk=hidden.pk).update(active=False)
    version = scored_version(customer=customer, products=[product])
    ProductNeighbour.objects.create(
        model_version=version, product=product, neighbour=hidden, rank=1, score=0.9
    )
    ProductNeighbour.objects.create(
        model_version=version, product=product, neighbour=neighbour, rank=2, score=0.5
    )
    assert list(similar_product_list(product=product)) == []  # nothing is served yet

    model_version_activate(model_version=version)

    assert [row.neighbour for row in similar_product_list(product=product)] == [neighbour]


def test_quality_gate_needs_the_best_baseline_beaten_and_no_regression_against_the_served_version():
    customer = CustomerFactory()
    product = ProductFactory()
    weak = ModelVersion.objects.create(metrics={"mlp": {"ndcg@10": 0.29}, "personal_top": {"ndcg@10": 0.30}})
    passed, verdict = quality_gate(model_version=weak)
    assert not passed and "personal_top" in verdict

    served = scored_version(customer=customer, products=[product], ndcg=0.40)
    model_version_activate(model_version=served)
    worse = ModelVersion.objects.create(metrics={"mlp": {"ndcg@10": 0.35}, "personal_top": {"ndcg@10": 0.30}})
    passed, verdict = quality_gate(model_version=worse)
    assert not passed and f"served version {served.pk}" in verdict

    better = ModelVersion.objects.create(
        metrics={"mlp": {"ndcg@10": 0.41}, "personal_top": {"ndcg@10": 0.30}}
    )
    assert quality_gate(model_version=better)[0]


def test_click_through_rate_per_version():
    customer = CustomerFactory()
    product = ProductFactory()
    for _ in range(4):
        BehaviourEventFactory(
            customer=customer, product=product, kind="recommendation_impression", model_version_id=7
        )
    BehaviourEventFactory(customer=customer, product=product, kind="recommendation_click", model_version_id=7)
    BehaviourEventFactory(customer=customer, product=product, kind="view", model_version_id=None)

    rows = click_through_rate_by_version()

    assert rows == [{"model_version_id": 7, "impressions": 4, "clicks": 1, "ctr": 0.25}]

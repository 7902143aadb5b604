"""Scoring in customer-range chunks: every chunk of one run leaves out the same products."""

import datetime as dt

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer, Product
from crm.services.demo_data import generate_demo_data
from crm.services.privacy import customer_erase
from inventory.models import ForecastRun, ProductForecast
from inventory.selectors import product_ids_at_risk_before_delivery
from recommender import ml
from recommender.models import ModelVersion, Recommendation
from recommender.services import frames
from recommender.services.scoring import (
    model_version_score_range,
    model_version_score_start,
    scoring_ranges,
    trained_model_for,
)
from recommender.services.training import model_version_train

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}
HORIZON = 28


def forecast_selling_out(*products: Product) -> None:
    """A new forecast run in which each of ``products`` sells 5 a day and has 2 left: it runs out long
    before an order could arrive. The products not named are not forecast (their stock is not at risk)."""
    run = ForecastRun.objects.create(as_of=dt.date.today(), horizon_days=HORIZON)
    for product in products:
        Product.objects.filter(pk=product.pk).update(stock=2)
        ProductForecast.objects.create(
            run=run,
            product=product,
            model="test",
            demand_class="smooth",
            dispersion=1.0,
            total=5.0 * HORIZON,
            daily=[5.0] * HORIZON,
            lower=[4.0] * HORIZON,
            upper=[6.0] * HORIZON,
        )


def test_every_chunk_of_a_run_leaves_out_the_products_at_risk_when_the_run_began(settings):
    # given a trained version, and the product recommended most forecast to run out
    generate_demo_data(customers=120, products=60, orders=2400, seed=5, start=dt.date(2024, 1, 1), months=12)
    Product.objects.update(stock=None)
    settings.INVENTORY_AVOID_STOCKOUTS = True
    settings.RECOMMENDER_TOP_N = 10
    settings.RECOMMENDER_MAX_PER_CATEGORY = 0
    settings.RECOMMENDER_MIN_NEW_ITEMS = 0
    version = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
    model = trained_model_for(version)
    customer_ids = frames.order_line_frame()["customer_id"].unique()
    plain = ml.recommend(
        model,
        customer_ids=np.sort(customer_ids.astype("int64")),
        top_n=10,
        available_product_ids=frames.available_product_ids(),
        allow_bought=settings.RECOMMENDER_ALLOW_BOUGHT,
    )
    at_risk_at_start = Product.objects.get(pk=int(plain["product_id"].value_counts().idxmax()))
    forecast_selling_out(at_risk_at_start)
    assert product_ids_at_risk_before_delivery() == {at_risk_at_start.pk}

    # when a scoring starts and its first chunk runs, as a worker runs them (the version read afresh)
    scored = model_version_score_start(model_version=version)
    ranges = scoring_ranges(scored, chunk_size=40)
    assert len(ranges) >= 3
    low, high = ranges[0]
    model_version_score_range(model_version=ModelVersion.objects.get(pk=version.pk), low=low, high=high)

    # and the stock changes mid-run: a new forecast in which another product, one the last chunk's
    # customers get, runs out instead
    last_low, _ = ranges[-1]
    last_chunks_products = plain[(plain["customer_id"] >= last_low)]["product_id"]
    at_risk_later = Product.objects.get(
        pk=int(last_chunks_products[last_chunks_products != at_risk_at_start.pk].value_counts().idxmax())
    )
    forecast_selling_out(at_risk_later)
    assert product_ids_at_risk_before_delivery() == {at_risk_later.pk}
    for low, high in ranges[1:]:
        with CaptureQueriesContext(connection) as queries:
            model_version_score_range(
                model_version=ModelVersion.objects.get(pk=version.pk), low=low, high=high
            )
        # no chunk computes the inventory's reorder frame again
        assert not [query for query in queries if "inventory_productforecast" in query["sql"]]

    # then every chunk left out the products at risk when the run began, and only those
    served = Recommendation.objects.filter(model_version=version)
    assert served.exists()
    assert not served.filter(product=at_risk_at_start).exists()
    assert served.filter(product=at_risk_later, customer_id__gte=last_low).exists()
    assert ModelVersion.objects.get(pk=version.pk).params["stock_risk_product_ids"] == [at_risk_at_start.pk]


def test_a_customer_erased_while_a_version_is_scored_leaves_the_chunk_and_the_version_whole(settings):
    """A chunk wrote rows for every customer the scoring read when it began; one erased since broke
    the foreign key, failed the chunk and with it the whole version."""
    generate_demo_data(customers=60, products=40, orders=1200, seed=6, start=dt.date(2024, 1, 1), months=12)
    settings.RECOMMENDER_TOP_N = 5
    version = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
    scored = model_version_score_start(model_version=version)
    erased = Customer.objects.get(pk=int(scored[len(scored) // 2]))

    customer_erase(customer=erased)
    written = model_version_score_range(
        model_version=ModelVersion.objects.get(pk=version.pk),
        low=int(scored[0]),
        high=None,
        customer_ids=scored,
    )

    served = Recommendation.objects.filter(model_version=version)
    assert written == served.count() > 0
    assert set(served.values_list("customer_id", flat=True)) == {int(c) for c in scored} - {erased.pk}

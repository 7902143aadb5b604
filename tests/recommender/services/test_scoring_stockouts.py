"""Recommendations leave out products forecast to run out before they could be restocked."""

import datetime as dt

import pytest

from crm.models import Order, Product
from crm.services.demo_data import generate_demo_data
from inventory.selectors import product_ids_at_risk_before_delivery
from inventory.services.forecasts import forecast_run_create
from recommender.models import ModelVersion, Recommendation
from recommender.services.scoring import model_version_score
from recommender.services.training import model_version_train

FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_products_about_to_run_out_are_not_recommended_unless_the_setting_is_off(settings):
    generate_demo_data(customers=200, products=60, orders=2000, seed=5, start=dt.date(2024, 1, 1), months=12)
    Product.objects.update(stock=None)
    version = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
    version = model_version_score(model_version=version)
    counts = {}
    for product_id in Recommendation.objects.filter(model_version=version).values_list(
        "product_id", flat=True
    ):
        counts[product_id] = counts.get(product_id, 0) + 1
    popular = max(counts, key=counts.get)

    # given the most recommended product has one unit left and a forecast of steady sales
    Product.objects.filter(pk=popular).update(stock=1)
    latest = Order.objects.latest("placed_at").placed_at.date()
    forecast_run_create(as_of=latest + dt.timedelta(days=1), horizon_days=28)
    assert popular in product_ids_at_risk_before_delivery()

    # when scored again, it is not recommended to anyone
    model_version_score(model_version=version)
    assert not Recommendation.objects.filter(model_version=version, product_id=popular).exists()

    # and with the setting off only products out of stock are left out, as before
    settings.INVENTORY_AVOID_STOCKOUTS = False
    model_version_score(model_version=version)
    assert Recommendation.objects.filter(model_version=version, product_id=popular).exists()

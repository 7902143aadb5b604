"""Promotion targets leave out products forecast to run out before they could be restocked."""

import datetime as dt

import pytest

from crm.models import Customer, Order, Product
from crm.services.demo_data import generate_demo_data
from crm.services.promotions import promotion_compute_targets, promotion_create
from inventory.selectors import product_ids_at_risk_before_delivery
from inventory.services.forecasts import forecast_run_create


@pytest.mark.slow
@pytest.mark.django_db
def test_a_promotion_of_a_product_about_to_run_out_has_nothing_to_promote_unless_the_setting_is_off(settings):
    generate_demo_data(customers=150, products=40, orders=1500, seed=8, start=dt.date(2024, 1, 1), months=12)
    Customer.objects.update(email_opt_in=True)
    Product.objects.update(stock=None)
    best_seller = Product.objects.order_by("-order_lines__quantity").first()
    Product.objects.filter(pk=best_seller.pk).update(stock=1)
    latest = Order.objects.latest("placed_at").placed_at.date()
    forecast_run_create(as_of=latest + dt.timedelta(days=1), horizon_days=28)
    assert best_seller.pk in product_ids_at_risk_before_delivery()
    promotion = promotion_create(
        name="Last units",
        product_ids=[best_seller.pk],
        discount_percent=10,
        starts_on=latest,
        ends_on=latest + dt.timedelta(days=14),
        audience_size=20,
        control_share=0.1,
    )

    # with the setting on (the default) there is nothing left to promote
    with pytest.raises(ValueError, match="forecast to run out"):
        promotion_compute_targets(promotion=promotion)

    # with it off, only products out of stock would be left out: targets are chosen as before
    settings.INVENTORY_AVOID_STOCKOUTS = False
    promotion = promotion_compute_targets(promotion=promotion)
    assert promotion.targets.count() == 20

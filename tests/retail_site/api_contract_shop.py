"""A small generated shop with a served model version, a staff login and a shopper login: what the API
contract run (tests/retail_site/test_api_contract.py) works against."""

import datetime as dt

from crm.models import Customer, Product
from crm.services.demo_data import generate_demo_data
from tests.crm.api.tokens import api_token_for
from tests.factories import (
    CustomerSegmentFactory,
    JobFactory,
    ModelVersionFactory,
    PopularProductFactory,
    ProductNeighbourFactory,
    PromotionFactory,
    PromotionTargetFactory,
    RecommendationFactory,
    StaffUserFactory,
    UserFactory,
)


def contract_shop_build() -> dict[str, str]:
    """Writes the shop; returns the staff and the shopper token."""
    generate_demo_data(customers=20, products=15, orders=40, seed=11, start=dt.date(2024, 1, 1), months=3)
    customers = list(Customer.objects.order_by("external_id")[:3])
    products = list(Product.objects.order_by("external_id")[:6])
    version = ModelVersionFactory(status="active")
    for customer in customers:
        for rank, product in enumerate(products[:4], start=1):
            RecommendationFactory(model_version=version, customer=customer, product=product, rank=rank)
        CustomerSegmentFactory(customer=customer)
    for rank, neighbour in enumerate(products[1:4], start=1):
        ProductNeighbourFactory(model_version=version, product=products[0], neighbour=neighbour, rank=rank)
    PopularProductFactory(model_version=version, product=products[5], rank=1)
    promotion = PromotionFactory(products=products[:1])
    for rank, customer in enumerate(customers, start=1):
        PromotionTargetFactory(promotion=promotion, customer=customer, rank=rank)
    JobFactory(status="failed", error="Line 2: bad quantity")
    shopper = customers[0]
    shopper.user = UserFactory(username="contract-shopper")
    shopper.save(update_fields=["user"])
    staff = StaffUserFactory(username="contract-staff")
    return {"staff": api_token_for(staff), "shopper": api_token_for(shopper.user)}

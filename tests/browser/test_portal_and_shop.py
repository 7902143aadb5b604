"""Staff and shoppers in a real browser: signing in, the dashboard's charts, a customer's 360 view with
recommendations, a shopper's personalised home and its click tracking, and who may open the portal."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from crm.models import BehaviourEvent, Order
from recommender.models import ModelVersion
from tests.browser.helpers import PASSWORD, drawn_marks, log_in
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    CustomerSegmentFactory,
    ModelVersionFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ProductNeighbourFactory,
    RecommendationFactory,
    SegmentRunFactory,
    StaffUserFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LATEST_ORDER_AT = dt.datetime(2011, 12, 9, 12, 0, tzinfo=dt.UTC)
PRODUCT_NAMES = [
    ("Kitchen", "Enamel mug, red"),
    ("Kitchen", "Ceramic teapot, white"),
    ("Kitchen", "Floral cake stand, pink"),
    ("Home", "Rustic lantern, silver"),
    ("Home", "Oak photo frame, natural"),
    ("Home", "Striped cushion, blue"),
]
METRICS = {
    "mlp": {"ndcg@10": 0.376, "recall@10": 0.18, "hitrate@10": 0.61},
    "personal_top": {"ndcg@10": 0.355, "recall@10": 0.169, "hitrate@10": 0.58},
    "popular": {"ndcg@10": 0.12, "recall@10": 0.043, "hitrate@10": 0.3},
}


@pytest.fixture
def shop():
    """Six products, five customers (one of them a signed-up shopper) with orders over six months,
    a served model version with three recommendations each, neighbours, and a segment run."""
    categories = {
        name: CategoryFactory(name=name, path=path)
        for name, path in (("Home", "Home"), ("Kitchen", "Home/Kitchen"))
    }
    products = [
        ProductFactory(name=name, category=categories[category], price=Decimal("4.50") + index, stock=20)
        for index, (category, name) in enumerate(PRODUCT_NAMES)
    ]
    staff = StaffUserFactory(username="staffer")
    shopper = CustomerFactory(
        user=UserFactory(username="shopper"), name="Sam Shopper", country="France", email_opt_in=True
    )
    customers = [shopper] + [CustomerFactory(name=name) for name in ("Ada Byrne", "Li Wei", "Omar Haddad")]
    customers.append(CustomerFactory(name="Nia Okafor", country="Germany"))
    recent_revenue = Decimal(0)
    for index, customer in enumerate(customers):
        for month in range(6):
            placed_at = LATEST_ORDER_AT - dt.timedelta(days=30 * month + index)
            order = OrderFactory(customer=customer, placed_at=placed_at, status=Order.Status.COMPLETED)
            for line_number in (1, 2):
                line = OrderLineFactory(
                    order=order,
                    line_number=line_number,
                    product=products[(index + month + line_number) % len(products)],
                    quantity=line_number,
                    unit_price=Decimal("3.25") + index,
                )
                if placed_at > LATEST_ORDER_AT - dt.timedelta(days=30):
                    recent_revenue += line.quantity * line.unit_price
    served = ModelVersionFactory(
        status=ModelVersion.Status.ACTIVE,
        metrics=METRICS,
        trained_at=timezone.now(),
        scored_at=timezone.now(),
    )
    ModelVersionFactory(
        status=ModelVersion.Status.RETIRED,
        metrics={name: {**values, "ndcg@10": values["ndcg@10"] - 0.02} for name, values in METRICS.items()},
    )
    # as scoring writes them: placeholders already rendered to names
    reasons = [
        lambda anchor: f"Bought with {anchor.name}",
        lambda anchor: f"You buy from {anchor.category.name} every month",
        lambda anchor: "Popular in your country",
    ]
    for index, customer in enumerate(customers):
        anchor = products[index % len(products)]
        for rank, reason in enumerate(reasons, start=1):
            RecommendationFactory(
                model_version=served,
                customer=customer,
                product=products[(index + rank + 2) % len(products)],
                rank=rank,
                score=0.9 - 0.1 * rank,
                reason=reason(anchor),
            )
    for product in products:
        for rank, offset in enumerate((1, 2), start=1):
            ProductNeighbourFactory(
                model_version=served,
                product=product,
                neighbour=products[(products.index(product) + offset) % len(products)],
                rank=rank,
            )
    run = SegmentRunFactory(as_of=LATEST_ORDER_AT.date())
    groups = ["champions", "loyal", "at_risk", "new", "hibernating"]
    for index, customer in enumerate(customers):
        CustomerSegmentFactory(
            run=run,
            customer=customer,
            rfm_group=groups[index % len(groups)],
            predicted_clv_12m=150.0 - 10 * index,
            high_value=index == 0,
            churn_risk=0.1 * index,
        )
    run.group_counts = dict(
        run.segments.order_by().values("rfm_group").annotate(n=Count("pk")).values_list("rfm_group", "n")
    )
    run.customer_count = len(customers)
    run.save()
    return {
        "staff": staff,
        "shopper": shopper,
        "customers": customers,
        "products": products,
        "served": served,
        "recent_revenue": recent_revenue,
    }


def test_staff_sign_in_see_drawn_charts_and_a_customers_recommendations_with_reasons(page, shop):
    # when staff sign in through the login form
    log_in(page, username="staffer")

    # then the dashboard is styled, its revenue chart is drawn and the KPIs show the last 30 days
    assert page.url.endswith("/staff/")
    assert page.eval_on_selector(".staff-layout", "node => getComputedStyle(node).display") == "grid"
    chart = page.locator("#revenue-chart svg")
    assert chart.is_visible()
    assert chart.bounding_box()["width"] > 300
    assert drawn_marks(page, "#revenue-chart") >= 7  # a line and a point per month
    assert drawn_marks(page, "#orders-chart") >= 6  # a bar per month
    assert page.inner_text("#kpi-revenue .value") == f"£{shop['recent_revenue']:,.0f}"
    assert page.inner_text("#kpi-orders .value") == str(len(shop["customers"]))

    # when they open a customer from the customer list
    page.click(".sidebar nav >> text=Customers")
    assert page.locator("#customer-table .customer-row").count() == len(shop["customers"])
    customer = shop["customers"][1]
    page.click(f"#customer-table a:text-is('{customer.name}')")

    # then the 360 view shows the served recommendations, each with a reason naming real things
    page.wait_for_url(re.compile(rf"/staff/customers/{customer.pk}/$"))
    assert page.inner_text("h1") == customer.name
    rows = page.locator("#customer-recommendations .recommendation")
    assert rows.count() == 3
    reasons = page.locator(".recommendation .reason").all_inner_texts()
    anchor = shop["products"][1 % len(shop["products"])]
    assert reasons == [
        f"Bought with {anchor.name}",
        f"You buy from {anchor.category.name} every month",
        "Popular in your country",
    ]
    assert all("{" not in reason for reason in reasons)
    recommended = [shop["products"][index] for index in (4, 5, 0)]
    assert page.locator(".recommendation td:nth-child(2)").all_inner_texts() == [
        f"{product.name} {product.external_id}" for product in recommended
    ]
    assert page.inner_text("#rfm-group") == "Loyal"
    assert page.locator("#customer-orders tr.order").count() == 6
    assert page.locator("#note-form").is_visible()


def test_a_shopper_sees_recommendations_for_them_and_a_click_is_recorded_with_its_model_version(page, shop):
    shopper, served = shop["shopper"], shop["served"]

    # when the shopper signs in from the shop
    page.goto("/")
    page.click("#login")
    page.fill("#id_username", "shopper")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")

    # then their home greets them with their own recommendations and the reasons
    assert page.inner_text("h1") == "Hello, Sam Shopper"
    assert page.inner_text("#recommended-title") == "Recommended for you"
    cards = page.locator("#recommended .recommendation")
    assert cards.count() == 3
    reasons = page.locator("#recommended .recommendation .reason").all_inner_texts()
    anchor = shop["products"][0]
    assert reasons[0] == f"Bought with {anchor.name}"
    assert all(reason and "{" not in reason for reason in reasons)

    # when they click the first recommendation
    first = shop["products"][3]
    assert cards.first.get_attribute("data-product-id") == str(first.pk)
    assert cards.first.get_attribute("data-model-version") == str(served.pk)
    cards.first.locator("a.name").click()

    # then they land on its product page, with what is bought together with it
    page.wait_for_url(re.compile(rf"/products/{first.pk}/$"))
    assert page.inner_text("#product h1") == first.name
    together = page.locator("#bought-together .product-card a.name").all_inner_texts()
    assert together == [shop["products"][4].name, shop["products"][5].name]

    # and the click is recorded for the model version that made the recommendation
    clicks = BehaviourEvent.objects.filter(kind=BehaviourEvent.Kind.RECOMMENDATION_CLICK)
    assert list(clicks.values_list("customer_id", "product_id", "model_version_id")) == [
        (shopper.pk, first.pk, served.pk)
    ]
    impressions = BehaviourEvent.objects.filter(
        kind=BehaviourEvent.Kind.RECOMMENDATION_IMPRESSION, customer=shopper, model_version_id=served.pk
    )
    assert impressions.count() == 3


def test_the_staff_portal_sends_visitors_to_sign_in_and_refuses_shoppers(page, shop):
    # an anonymous visitor is sent to the login page, which brings them back afterwards
    page.goto("/staff/")
    assert re.search(r"/accounts/login/\?next=/staff/$", page.url)
    assert page.locator("#login-form").is_visible()

    # a signed-in shopper is refused
    log_in(page, username="shopper", next_url="/")
    assert page.inner_text("h1") == "Hello, Sam Shopper"
    response = page.goto("/staff/")
    assert response.status == 403
    assert page.locator("#revenue-chart").count() == 0
    response = page.goto("/staff/customers/")
    assert response.status == 403

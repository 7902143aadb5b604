import csv
import datetime as dt
import io
from decimal import Decimal

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from crm.models import Customer, Order, OrderLine, Promotion, PromotionTarget
from crm.services.promotions import (
    promotion_compute_targets,
    promotion_create,
    promotion_product_ids,
    promotion_results,
)
from tests.factories import CategoryFactory, CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

TODAY = dt.date.today()


def _promotion(**overrides) -> Promotion:
    fields = {
        "name": "Spring mugs",
        "discount_percent": 20,
        "starts_on": TODAY,
        "ends_on": TODAY + dt.timedelta(days=14),
        "channel": Promotion.Channel.EMAIL,
        "audience_size": 1,
        "control_share": 0.0,
        **overrides,
    }
    return promotion_create(**fields)


def _buy(customer, product, *, days_ago: int, quantity: int = 1, price: str | None = None):
    order = OrderFactory(customer=customer, placed_at=timezone.now() - dt.timedelta(days=days_ago))
    return OrderLineFactory(
        order=order, product=product, quantity=quantity, unit_price=Decimal(price or str(product.price))
    )


@pytest.mark.django_db
class TestPromotionValidation:
    def _errors(self, **overrides) -> dict:
        with pytest.raises(ValidationError) as raised:
            _promotion(**overrides)
        return raised.value.message_dict

    def test_a_valid_promotion_is_a_draft_with_its_products(self):
        product = ProductFactory()
        CustomerFactory.create_batch(2)
        promotion = _promotion(product_ids=[product.pk], audience_size=2, control_share=0.5)
        assert promotion.status == Promotion.Status.DRAFT
        assert promotion_product_ids(promotion=promotion) == [product.pk]

    def test_must_name_products_or_a_category(self):
        CustomerFactory()
        assert "products" in self._errors()

    def test_an_empty_category_is_an_error(self):
        CustomerFactory()
        empty = CategoryFactory(name="Empty")
        assert "has no products" in self._errors(category_id=empty.pk)["category"][0]

    def test_unknown_products_are_named(self):
        CustomerFactory()
        product = ProductFactory()
        errors = self._errors(product_ids=[product.pk, 999_999])
        assert errors["products"] == ["Unknown product ids: 999999."]

    def test_window_ending_before_it_starts(self):
        CustomerFactory()
        product = ProductFactory()
        errors = self._errors(product_ids=[product.pk], ends_on=TODAY - dt.timedelta(days=1))
        assert list(errors) == ["ends_on"]

    def test_audience_larger_than_the_consenting_customers(self):
        CustomerFactory.create_batch(2)
        CustomerFactory(email_opt_in=False)
        product = ProductFactory()
        errors = self._errors(product_ids=[product.pk], audience_size=3)
        assert "larger than the 2 customers who consent to marketing by E-mail." in errors["audience_size"][0]

    def test_the_audience_error_names_the_channel_as_the_form_does_and_counts_one_customer(self):
        """It read "larger than the 1 customers who consented to marketing by post"."""
        CustomerFactory(post_opt_in=True)
        product = ProductFactory()
        errors = self._errors(product_ids=[product.pk], audience_size=3, channel="direct_mail")
        assert errors["audience_size"] == [
            "The audience (3) is larger than the 1 customer who consents to marketing by Post."
        ]

    @pytest.mark.parametrize("share", [-0.1, 0.51])
    def test_control_share_outside_zero_to_half(self, share):
        CustomerFactory()
        product = ProductFactory()
        assert list(self._errors(product_ids=[product.pk], control_share=share)) == ["control_share"]

    def test_every_problem_is_reported_at_once(self):
        errors = self._errors(ends_on=TODAY - dt.timedelta(days=1), audience_size=5, control_share=0.9)
        assert set(errors) == {"products", "ends_on", "audience_size", "control_share"}
        assert not Promotion.objects.exists()


@pytest.mark.django_db
def test_targets_rank_by_expected_value_exclude_and_cut_the_audience():
    # given a promoted mug category and shoppers with different appetites for it (no recommender served,
    # so the score is each customer's share of purchase days with a mug, one day more counted, shared
    # between the two mugs)
    mugs = CategoryFactory(name="Mugs")
    tea = CategoryFactory(name="Tea")
    mug = ProductFactory(category=mugs, price=Decimal("10.00"))
    old_mug = ProductFactory(category=mugs, price=Decimal("8.00"))
    teapot = ProductFactory(category=tea)
    mug_lover, sometimes, never, recent_buyer, no_consent, contacted = CustomerFactory.create_batch(6)
    no_consent.email_opt_in = False
    no_consent.save()
    for days_ago in (200, 150, 100):
        _buy(mug_lover, old_mug, days_ago=days_ago)
    _buy(sometimes, old_mug, days_ago=120)
    _buy(sometimes, teapot, days_ago=90)
    _buy(never, teapot, days_ago=60)
    _buy(recent_buyer, mug, days_ago=5)  # bought a promoted product within 30 days
    _buy(no_consent, old_mug, days_ago=100)
    _buy(contacted, old_mug, days_ago=100)
    earlier = _promotion(name="Earlier", product_ids=[teapot.pk], starts_on=TODAY - dt.timedelta(days=3))
    PromotionTarget.objects.create(
        promotion=earlier, customer=contacted, rank=1, score=0.5, expected_value=1, group="target"
    )
    promotion = _promotion(category_id=mugs.pk, audience_size=2, discount_percent=25)

    # when
    promotion = promotion_compute_targets(promotion=promotion)

    # then the two best eligible customers are chosen, best first, scored by rate x margin
    targets = list(promotion.targets.order_by("rank"))
    assert [target.customer for target in targets] == [mug_lover, sometimes]
    margin_rate = 0.3
    mug_margin, old_mug_margin = 10 * 0.75 * margin_rate, 8 * 0.75 * margin_rate
    assert targets[0].expected_value == pytest.approx(3 / 4 * (mug_margin + old_mug_margin) / 2)
    assert targets[1].expected_value == pytest.approx(1 / 3 * (mug_margin + old_mug_margin) / 2)
    assert targets[1].score == pytest.approx(1 - (1 - 1 / 6) ** 2)
    assert promotion.status == Promotion.Status.READY
    assert promotion.model_version_id is None
    assert promotion.targets_computed_at is not None

    # and with a larger audience the excluded stay out but the cold customer comes in last
    Promotion.objects.filter(pk=promotion.pk).update(audience_size=5)
    promotion.refresh_from_db()
    promotion_compute_targets(promotion=promotion)
    chosen = list(promotion.targets.order_by("rank").values_list("customer", flat=True))
    assert chosen[:2] == [mug_lover.pk, sometimes.pk]
    assert never.pk in chosen
    assert not {recent_buyer.pk, no_consent.pk, contacted.pk} & set(chosen)


@pytest.mark.django_db
def test_targets_of_more_consenting_customers_than_one_query_can_name():
    # given a large shop: 70,000 consenting customers (PostgreSQL takes 65,535 parameters per query),
    # no recommender served, one of them a mug buyer and one who never consented
    mugs = CategoryFactory(name="Mugs")
    mug = ProductFactory(category=mugs, price=Decimal("10.00"))
    Customer.objects.bulk_create(
        Customer(external_id=f"BULK-{index}", email_opt_in=True) for index in range(70_000)
    )
    mug_lover, no_consent = CustomerFactory.create_batch(2)
    no_consent.email_opt_in = False
    no_consent.save()
    _buy(mug_lover, mug, days_ago=100)
    _buy(no_consent, mug, days_ago=100)
    promotion = _promotion(category_id=mugs.pk, audience_size=3, exclude_bought_within_days=0)

    # when
    promotion = promotion_compute_targets(promotion=promotion)

    # then everyone consenting was scored, the mug buyer first, and the customer without consent left out
    targets = list(promotion.targets.order_by("rank").values_list("customer_id", flat=True))
    assert promotion.status == Promotion.Status.READY
    assert len(targets) == 3 and targets[0] == mug_lover.pk and no_consent.pk not in targets


@pytest.mark.django_db
def test_control_group_is_reproducible_and_respects_the_share(tmp_path):
    cups = CategoryFactory(name="Cups")
    cup = ProductFactory(category=cups)
    CustomerFactory.create_batch(50)
    promotion = _promotion(product_ids=[cup.pk], audience_size=40, control_share=0.25, seed=11)

    promotion_compute_targets(promotion=promotion)
    first = dict(promotion.targets.values_list("customer_id", "group"))
    promotion_compute_targets(promotion=promotion)
    second = dict(promotion.targets.values_list("customer_id", "group"))

    assert first == second
    assert len(first) == 40
    assert sum(group == "control" for group in first.values()) == 10

    # the export lists both groups with the customers' ids and e-mails
    out = tmp_path / "targets.csv"
    call_command("export_promotion_targets", str(promotion.pk), "--out", str(out), stderr=io.StringIO())
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["customer_id", "email", "group", "rank", "score", "expected_value"]
    assert [int(row["rank"]) for row in rows] == list(range(1, 41))
    assert sum(row["group"] == "control" for row in rows) == 10


@pytest.mark.django_db
def test_results_measure_conversion_and_revenue_uplift_with_intervals():
    # given 70 targeted customers of whom 56 bought and 80 held out of whom 48 bought (Newcombe's
    # example): every converter spent 10 on the promoted product in the window, targets 2 more once
    product = ProductFactory(price=Decimal("10.00"))
    other = ProductFactory()
    customers = CustomerFactory.create_batch(150)
    promotion = _promotion(
        product_ids=[product.pk],
        starts_on=TODAY - dt.timedelta(days=20),
        ends_on=TODAY - dt.timedelta(days=6),
    )
    PromotionTarget.objects.bulk_create(
        PromotionTarget(
            promotion=promotion,
            customer=customer,
            rank=rank,
            score=0.1,
            expected_value=1.0,
            group="target" if rank <= 70 else "control",
        )
        for rank, customer in enumerate(customers, 1)
    )
    converters = customers[:56] + customers[70:118]
    in_window = timezone.now() - dt.timedelta(days=10)
    orders = Order.objects.bulk_create(
        Order(external_id=f"W{index}", customer=customer, placed_at=in_window)
        for index, customer in enumerate(converters)
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, line_number=1, product=product, item_code="M", quantity=1, unit_price=10)
        for order in orders
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, line_number=2, product=product, item_code="M", quantity=1, unit_price=2)
        for order in orders[:56]
    )
    # outside the window, or another product, or cancelled: none of these count
    _buy(customers[60], product, days_ago=30)
    _buy(customers[61], other, days_ago=10)
    cancelled = OrderFactory(customer=customers[62], placed_at=in_window, status=Order.Status.CANCELLED)
    OrderLineFactory(order=cancelled, product=product)

    results = promotion_results(promotion=promotion)

    target, control = results["groups"]["target"], results["groups"]["control"]
    assert (target["customers"], target["converters"]) == (70, 56)
    assert (control["customers"], control["converters"]) == (80, 48)
    assert target["conversion_rate"] == pytest.approx(0.8)
    assert target["revenue_per_customer"] == pytest.approx(56 * 12 / 70)
    assert control["revenue_per_customer"] == pytest.approx(48 * 10 / 80)
    conversion = results["conversion_uplift"]
    assert conversion["estimate"] == pytest.approx(0.2)
    assert (round(conversion["low"], 4), round(conversion["high"], 4)) == (0.0524, 0.3339)
    revenue = results["revenue_per_customer_uplift"]
    assert revenue["estimate"] == pytest.approx(9.6 - 6.0)
    spend_target = np.array([12.0] * 56 + [0.0] * 14)
    spend_control = np.array([10.0] * 48 + [0.0] * 32)
    from scipy import stats

    reference = stats.ttest_ind(spend_target, spend_control, equal_var=False).confidence_interval()
    assert (revenue["low"], revenue["high"]) == pytest.approx((reference.low, reference.high))
    assert results["window_complete"] is True
    promotion.refresh_from_db()
    assert promotion.results["groups"]["target"]["converters"] == 56


@pytest.mark.django_db(transaction=True)
def test_compute_promotion_targets_command_runs_the_task(eager_celery):
    cup = ProductFactory()
    CustomerFactory.create_batch(10)
    promotion = _promotion(product_ids=[cup.pk], audience_size=8, control_share=0.25)
    out = io.StringIO()

    call_command(
        "compute_promotion_targets",
        str(promotion.pk),
        "--wait",
        "--no-progress",
        "--timeout",
        "60",
        stdout=out,
    )

    assert "6 targets and 2 held out as control" in out.getvalue()
    assert "category purchase rates" in out.getvalue()
    promotion.refresh_from_db()
    assert promotion.status == Promotion.Status.READY


@pytest.mark.django_db
def test_a_free_product_promotion_still_targets_its_likeliest_buyers():
    mugs = CategoryFactory(name="Mugs")
    mug = ProductFactory(category=mugs, price=Decimal("10.00"))
    first, regular = CustomerFactory(), CustomerFactory()  # the lower id buys mugs less often
    _buy(first, mug, days_ago=300)
    for days_ago in (50, 90):
        _buy(first, ProductFactory(), days_ago=days_ago)
    for days_ago in (40, 80, 120):
        _buy(regular, mug, days_ago=days_ago)

    promotion = promotion_compute_targets(
        promotion=_promotion(category_id=mugs.pk, audience_size=1, discount_percent=100)
    )

    target = promotion.targets.get()
    assert target.customer == regular and target.expected_value == 0


@pytest.mark.django_db
def test_without_a_served_model_a_customer_buys_from_the_category_once_not_from_every_product():
    """Each of a category's products got the customer's category rate: a steady buyer bought every one
    of ~100 for sure (100.0%), and every steady buyer's expected value was the margin of all of them."""
    # given a promoted category of four mugs and customers who buy in it more or less often
    mugs = CategoryFactory(name="Mugs")
    four_mugs = [ProductFactory(category=mugs, price=Decimal(price)) for price in ("8", "10", "12", "14")]
    tea = ProductFactory(category=CategoryFactory(name="Tea"))
    steady, once, half, rarely, never = CustomerFactory.create_batch(5)
    for days_ago, mug in zip((60, 90, 120, 150, 180), four_mugs * 2, strict=False):
        _buy(steady, mug, days_ago=days_ago)
    _buy(once, four_mugs[0], days_ago=60)
    for days_ago, product in ((60, four_mugs[1]), (90, tea), (120, four_mugs[2]), (150, tea)):
        _buy(half, product, days_ago=days_ago)
    for days_ago, product in ((60, four_mugs[3]), (90, tea), (120, tea), (150, tea), (180, tea)):
        _buy(rarely, product, days_ago=days_ago)
    _buy(never, tea, days_ago=60)
    promotion = _promotion(category_id=mugs.pk, audience_size=5, exclude_bought_within_days=0)

    # when
    promotion = promotion_compute_targets(promotion=promotion)

    # then the chance of buying is below certainty, and falls with the customer's buying in the category
    targets = list(promotion.targets.order_by("rank"))
    assert [target.customer for target in targets] == [steady, once, half, rarely, never]
    scores = [target.score for target in targets]
    assert all(score < 1 for score in scores)
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5 and scores[-1] == 0
    # and the expected value is one mug's average margin times the chance of buying in the category
    mean_margin = 11 * 0.8 * 0.3
    values = [target.expected_value for target in targets]
    rates = [5 / 6, 1 / 2, 2 / 5, 1 / 6, 0]
    assert values == pytest.approx([rate * mean_margin for rate in rates])
    assert all(score <= rate for score, rate in zip(scores, rates, strict=True))

import datetime as dt
from io import StringIO

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Max, Min, Q

from crm.models import BehaviourEvent, Category, Customer, Order, OrderLine, Product
from crm.services.demo_data import (
    DemoDataError,
    generate_demo_data,
    synthetic_data_delete,
    synthetic_data_frames,
)
from tests.factories import CategoryFactory, OrderLineFactory, ProductFactory

SMALL = {
    "customers": 120,
    "products": 40,
    "orders": 800,
    "seed": 11,
    "start": dt.date(2023, 1, 1),
    "months": 24,
    "lines_per_order": 6.0,
    "events_per_customer": 1.5,
}


def generate(**overrides) -> dict[str, int]:
    return generate_demo_data(**{**SMALL, **overrides})


@pytest.fixture(scope="class")
def shop_history(django_db_setup, django_db_blocker):
    """One bigger data set, shared by the structure tests and removed afterwards."""
    with django_db_blocker.unblock():
        counts = generate(customers=300, products=150, orders=3000, lines_per_order=5.0, seed=5)
        lines = pd.DataFrame.from_records(
            OrderLine.objects.values(
                "order_id",
                "product_id",
                "quantity",
                "order__customer_id",
                "order__status",
                "order__placed_at",
            )
        )
        orders = pd.DataFrame.from_records(Order.objects.values("id", "customer_id", "placed_at", "status"))
        yield counts, lines, orders
        synthetic_data_delete()
        assert not Category.objects.exists()


@pytest.mark.django_db
def test_counts_match_the_arguments():
    counts = generate()

    assert Customer.objects.count() == counts["customers"] == 120
    assert Product.objects.count() == counts["products"] == 40
    assert Order.objects.count() == counts["orders"] == 800
    assert OrderLine.objects.count() == counts["order_lines"]
    # orders x lines_per_order, give or take the randomness of order sizes
    assert 0.9 * 800 * 6 < counts["order_lines"] < 1.1 * 800 * 6
    assert Order.objects.filter(status=Order.Status.RETURNED).count() == counts["return_orders"] > 0
    assert Order.objects.filter(customer__isnull=True).count() == counts["guest_orders"] > 0
    assert OrderLine.objects.filter(quantity__lt=0).count() == counts["returned_lines"] > 0
    assert BehaviourEvent.objects.count() == counts["events"] > 0
    assert Category.objects.count() == counts["categories"]
    assert set(BehaviourEvent.objects.values_list("kind", flat=True)) <= {
        BehaviourEvent.Kind.VIEW,
        BehaviourEvent.Kind.ADD_TO_CART,
        BehaviourEvent.Kind.WISHLIST,
    }


@pytest.mark.django_db
def test_ids_are_prefixed_and_events_are_optional():
    counts = generate(events_per_customer=0.0)

    assert counts["events"] == 0 and not BehaviourEvent.objects.exists()
    assert Customer.objects.order_by("external_id").first().external_id == "SYN-C000001"
    assert Product.objects.order_by("external_id").first().external_id == "SYN-P00001"
    assert Order.objects.order_by("external_id").first().external_id == "SYN-O0000001"
    assert not Customer.objects.exclude(external_id__startswith="SYN-C").exists()
    assert not Order.objects.exclude(external_id__startswith="SYN-O").exists()


@pytest.mark.django_db
def test_catalogue_is_a_tree_of_departments_with_leaf_categories():
    generate(products=200)

    departments = Category.objects.filter(parent__isnull=True)
    assert 3 <= departments.count() <= 8
    depths = {path.count("/") + 1 for path in Category.objects.values_list("path", flat=True)}
    assert depths == {1, 2, 3}
    for category in Category.objects.exclude(parent__isnull=True).select_related("parent"):
        assert category.path == f"{category.parent.path}/{category.name}"
    assert not Product.objects.filter(category__isnull=True).exists()
    assert not Product.objects.filter(category__children__isnull=False).exists()

    prices = [float(price) for price in Product.objects.values_list("price", flat=True)]
    assert min(prices) > 0 and max(prices) > 4 * sorted(prices)[len(prices) // 2]
    unavailable = Product.objects.filter(Q(active=False) | Q(stock=0)).count()
    assert 0 < unavailable < 40
    assert Product.objects.filter(stock__isnull=True).exists()
    assert not Product.objects.filter(stock__lt=0).exists()


@pytest.mark.django_db
def test_customers_have_countries_consent_and_sign_up_dates():
    generate(customers=1000, orders=200)

    countries = pd.Series(list(Customer.objects.values_list("country", flat=True)))
    shares = countries.value_counts(normalize=True)
    assert shares.iloc[0] > 0.5 and len(shares) >= 8
    assert 0.5 < Customer.objects.filter(email_opt_in=True).count() / 1000 < 0.7
    assert not Customer.objects.filter(email_opt_in=True, consent_changed_at__isnull=True).exists()
    assert not Customer.objects.filter(signed_up_at__isnull=True).exists()
    assert not Customer.objects.filter(consent_changed_at__lt=F("signed_up_at")).exists()
    emails = list(Customer.objects.values_list("email", flat=True))
    assert len(set(emails)) == 1000 and all("@example." in email for email in emails)
    assert len(set(Customer.objects.values_list("name", flat=True))) > 300


@pytest.mark.django_db
class TestShopHistory:
    """Structure of one data set made once for the class."""

    def test_shoppers_buy_their_products_again(self, shop_history):
        _, lines, _ = shop_history
        sales = lines[(lines.quantity > 0) & lines.order__customer_id.notna()]
        orders_per_customer = sales.groupby("order__customer_id").order_id.nunique()
        regulars = orders_per_customer[orders_per_customer >= 2].index
        orders_per_product = sales.groupby(["order__customer_id", "product_id"]).order_id.nunique()
        rebuys = (orders_per_product > 1).groupby(level=0).any()

        assert len(regulars) > 100
        assert rebuys[regulars].mean() > 0.6
        # some shoppers buy far more often than others (heavy tail)
        assert orders_per_customer.max() > 5 * orders_per_customer.median()

    def test_popularity_is_skewed(self, shop_history):
        _, lines, _ = shop_history
        per_product = lines[lines.quantity > 0].product_id.value_counts()

        top_tenth = per_product.head(150 // 10).sum() / per_product.sum()
        assert top_tenth > 0.25

    def test_orders_peak_before_christmas(self, shop_history):
        _, _, orders = shop_history
        placed = pd.to_datetime(orders.placed_at)

        def per_day(first: str, last: str) -> float:
            days = (pd.Timestamp(last) - pd.Timestamp(first)).days + 1
            return (
                (placed >= pd.Timestamp(first, tz="UTC")) & (placed < pd.Timestamp(last, tz="UTC"))
            ).sum() / days

        # Feb+Mar of the following year, so that a growing customer base cannot explain the peak
        assert per_day("2023-11-01", "2023-12-31") > 1.3 * per_day("2024-02-01", "2024-03-31")
        assert placed.min() >= pd.Timestamp("2023-01-01", tz="UTC")
        assert placed.max() < pd.Timestamp("2025-01-01", tz="UTC")
        weekend = placed.dt.day_of_week >= 5
        assert weekend.mean() > 2 / 7

    def test_every_line_is_a_catalogue_product_once_per_order(self, shop_history):
        counts, lines, _ = shop_history

        assert lines.product_id.notna().all()
        assert set(lines.product_id) <= set(Product.objects.values_list("id", flat=True))
        assert not lines.duplicated(["order_id", "product_id"]).any()
        assert OrderLine.objects.exclude(item_code=F("product__external_id")).count() == 0
        numbers = OrderLine.objects.values("order_id").annotate(
            lines=Count("id"), first=Min("line_number"), last=Max("line_number")
        )
        assert all(row["first"] == 1 and row["last"] == row["lines"] for row in numbers)
        assert counts["order_lines"] == len(lines)

    def test_returns_are_negative_lines_of_products_the_shopper_bought(self, shop_history):
        counts, lines, orders = shop_history
        returned = lines[lines.order__status == Order.Status.RETURNED]
        sold = lines[lines.order__status != Order.Status.RETURNED]

        assert (returned.quantity < 0).all() and (sold.quantity > 0).all()
        assert 0.005 < len(returned) / len(lines) < 0.06
        assert returned.order__customer_id.notna().all()
        earlier = returned.merge(sold, on=["order__customer_id", "product_id"], suffixes=("", "_sale"))
        earlier = earlier[earlier.order__placed_at_sale <= earlier.order__placed_at]
        assert len(earlier[["order_id", "product_id"]].drop_duplicates()) == len(returned)
        assert counts["returned_lines"] == len(returned)
        assert (orders.status == Order.Status.RETURNED).sum() == counts["return_orders"]


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_rows():
    generate()
    first = synthetic_data_frames()
    generate(replace=True)
    second = synthetic_data_frames()
    generate(replace=True, seed=12)
    other_seed = synthetic_data_frames()

    for name, frame in first.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(frame, second[name], obj=name)
    assert not first["order_lines"].equals(other_seed["order_lines"])
    assert not first["customers"].equals(other_seed["customers"])


@pytest.mark.django_db
def test_running_twice_without_replace_is_an_error():
    generate()

    with pytest.raises(DemoDataError, match="replace"):
        generate(seed=99)

    assert Customer.objects.count() == 120 and Order.objects.count() == 800


@pytest.mark.django_db
def test_replace_deletes_only_earlier_synthetic_rows():
    # given imported data beside an earlier synthetic run, one product in a department of the same name
    imported_line = OrderLineFactory(product=ProductFactory(category=CategoryFactory(name="Kitchen")))
    generate()

    # when the data is generated again, smaller
    counts = generate(replace=True, customers=30, products=15, orders=100)

    # then only the new synthetic rows and the imported ones are there
    assert Customer.objects.filter(external_id__startswith="SYN-C").count() == counts["customers"] == 30
    assert Product.objects.filter(external_id__startswith="SYN-P").count() == 15
    assert Order.objects.filter(external_id__startswith="SYN-O").count() == 100
    assert OrderLine.objects.filter(pk=imported_line.pk).exists()
    assert Customer.objects.filter(pk=imported_line.order.customer_id).exists()
    assert Category.objects.filter(path="Kitchen", products=imported_line.product).exists()
    # 40 products made four departments, 15 make three: the fourth went with its products
    assert Category.objects.filter(parent__isnull=True, path__in=["Kitchen", "Home", "Garden"]).count() == 3
    assert not Category.objects.filter(path__startswith="Fashion").exists()


@pytest.mark.django_db
def test_replace_deletes_more_synthetic_orders_than_one_query_takes_parameters():
    # given more orders than PostgreSQL takes parameters in one statement (65,535)
    generate(customers=50, products=20, orders=66_000, lines_per_order=1.0, events_per_customer=0.0)

    counts = generate(replace=True)

    assert Order.objects.filter(external_id__startswith="SYN-O").count() == counts["orders"] == 800
    assert Customer.objects.count() == 120


@pytest.mark.django_db
def test_replace_refuses_when_imported_orders_use_synthetic_products():
    generate()
    OrderLineFactory(product=Product.objects.get(external_id="SYN-P00001"))

    with pytest.raises(DemoDataError, match="refer to them"):
        generate(replace=True)

    assert Product.objects.filter(external_id__startswith="SYN-P").count() == 40


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"customers": 0}, "customers must be between 1"),
        ({"products": 9}, "products must be between 10"),
        ({"orders": -5}, "orders must be between 1"),
        ({"orders": 2.5}, "orders must be a whole number"),
        ({"months": 0}, "months must be between 1"),
        ({"seed": -1}, "seed must be between 0"),
        ({"lines_per_order": 0.5}, "lines_per_order must be between 1"),
        ({"events_per_customer": -1.0}, "events_per_customer must be between 0"),
        ({"start": "2023-01-01"}, "start must be a date"),
    ],
)
def test_bad_arguments_are_named(overrides, message):
    with pytest.raises(DemoDataError, match=message):
        generate(**overrides)

    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_progress_is_reported_up_to_done():
    reports: list[tuple[float, str]] = []

    generate(progress=lambda fraction, message: reports.append((fraction, message)))

    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(message.startswith("Orders") for _, message in reports)


@pytest.mark.django_db
def test_command_writes_the_data_and_prints_a_summary():
    out = StringIO()
    arguments = ["--customers", "50", "--products", "20", "--orders", "300", "--seed", "4", "--no-progress"]

    call_command("generate_demo_data", *arguments, "--months", "12", "--start", "2024-03-01", stdout=out)

    summary = out.getvalue()
    assert "50 customers" in summary and "300 orders" in summary and "20 products" in summary
    lines = OrderLine.objects.count()
    assert f"{lines:,} order lines" in summary
    first, last = Order.objects.aggregate(first=Min("placed_at"), last=Max("placed_at")).values()
    assert first.date() >= dt.date(2024, 3, 1) and last.date() < dt.date(2025, 3, 1)

    with pytest.raises(CommandError, match="--replace"):
        call_command("generate_demo_data", *arguments, stdout=StringIO())
    call_command("generate_demo_data", *arguments, "--replace", "--lines-per-order", "3", stdout=StringIO())
    assert OrderLine.objects.count() < lines


@pytest.mark.django_db
def test_command_rejects_bad_arguments():
    with pytest.raises(CommandError, match="products must be between 10"):
        call_command(
            "generate_demo_data",
            "--customers",
            "5",
            "--products",
            "3",
            "--orders",
            "9",
            "--seed",
            "1",
            stdout=StringIO(),
        )
    with pytest.raises(CommandError, match="2023-02-30"):
        call_command(
            "generate_demo_data",
            "--customers",
            "5",
            "--products",
            "30",
            "--orders",
            "9",
            "--seed",
            "1",
            "--start",
            "2023-02-30",
            stdout=StringIO(),
        )

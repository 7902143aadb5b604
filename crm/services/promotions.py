"""Promotions: create one, choose its audience with a held-out control group, measure the uplift."""

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.bulk import bulk_insert_rows
from core.jobs import job_create
from core.models import Job
from crm.marketing import targeting, uplift
from crm.marketing.purchase_model import purchase_probabilities
from crm.marketing.stock_outlook import short_product_ids
from crm.models import (
    Category,
    ConsentChannel,
    Customer,
    Order,
    OrderLine,
    Product,
    Promotion,
    PromotionTarget,
)
from crm.models.marketing import consent_channel_for
from crm.models.orders import line_amount

logger = logging.getLogger(__name__)

TARGET_FIELDS = ("promotion_id", "customer_id", "rank", "score", "expected_value", "group")


@transaction.atomic
def promotion_create(
    *,
    name: str,
    product_ids: Iterable[int] = (),
    category_id: int | None = None,
    discount_percent: Decimal | float | int,
    starts_on: dt.date,
    ends_on: dt.date,
    channel: str = Promotion.Channel.EMAIL,
    audience_size: int,
    control_share: float,
    exclude_bought_within_days: int = 30,
    exclude_contacted_within_days: int = 14,
    seed: int = 0,
    user=None,
    description: str = "",
) -> Promotion:
    """Create a draft promotion; every problem is reported at once, under the field it concerns."""
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    product_ids = sorted({int(product_id) for product_id in product_ids})
    known = set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))
    if unknown := [product_id for product_id in product_ids if product_id not in known]:
        error("products", f"Unknown product ids: {', '.join(map(str, unknown))}.")
    category = None
    if category_id is not None:
        category = Category.objects.filter(pk=category_id).first()
        if category is None:
            error("category", f"Unknown category id {category_id}.")
        elif not Product.objects.in_category(category.path).exists():
            error("category", f"Category {category.path!r} has no products.")
    if not product_ids and category_id is None:
        error("products", "Name the promoted products or a category.")
    if product_ids and category_id is not None:
        error("products", "Give either products or a category, not both.")
    if not name or not name.strip():
        error("name", "A promotion needs a name.")
    if not 0 <= Decimal(str(discount_percent)) <= 100:
        error("discount_percent", f"Discount must lie between 0 and 100 percent, not {discount_percent}.")
    if starts_on and ends_on and ends_on < starts_on:
        error("ends_on", f"The promotion ends ({ends_on}) before it starts ({starts_on}).")
    if channel not in Promotion.Channel.values:
        error("channel", f"Unknown channel {channel!r}; choose one of {', '.join(Promotion.Channel.values)}.")
    consent_channel = consent_channel_for(channel)
    consenting = (
        Customer.objects.consenting(consent_channel).count() if channel in Promotion.Channel.values else 0
    )
    if audience_size < 1:
        error("audience_size", "The audience must have at least one customer.")
    elif channel in Promotion.Channel.values and audience_size > consenting:
        error(
            "audience_size",
            f"The audience ({audience_size:,}) is larger than the {consenting:,} "
            f"{'customer who consents' if consenting == 1 else 'customers who consent'} to marketing by "
            f"{ConsentChannel(consent_channel).label}.",
        )
    if not 0.0 <= control_share <= 0.5:
        error("control_share", f"Control share must lie between 0 and 0.5, not {control_share}.")
    for field, days in (
        ("exclude_bought_within_days", exclude_bought_within_days),
        ("exclude_contacted_within_days", exclude_contacted_within_days),
    ):
        if days < 0:
            error(field, "Days cannot be negative.")
    if seed < 0:
        error("seed", "The seed cannot be negative.")
    if errors:
        raise ValidationError(errors)

    promotion = Promotion.objects.create(
        name=name.strip(),
        description=description,
        category=category,
        discount_percent=Decimal(str(discount_percent)),
        starts_on=starts_on,
        ends_on=ends_on,
        channel=channel,
        audience_size=audience_size,
        control_share=control_share,
        exclude_bought_within_days=exclude_bought_within_days,
        exclude_contacted_within_days=exclude_contacted_within_days,
        seed=seed,
        created_by=user,
    )
    if product_ids:
        promotion.products.set(product_ids)
    return promotion


def promotion_product_ids(*, promotion: Promotion) -> list[int]:
    """The promoted products: those named, plus every product of the promoted category tree."""
    ids = set(promotion.products.values_list("pk", flat=True))
    if promotion.category_id is not None:
        ids.update(Product.objects.in_category(promotion.category.path).values_list("pk", flat=True))
    return sorted(ids)


def _fallback_probabilities(customer_ids: np.ndarray, product_ids: list[int]) -> np.ndarray:
    """Without a served recommender: the customer's rate of buying from a promoted product's category
    (``targeting.category_purchase_rates``; from that product, when it has none), shared among the
    category's promoted products.

    The rate is the chance of buying in the category once, not of buying each of its products: given
    whole to each of a hundred products, it made every steady buyer certain to buy (100%) and worth
    the margin of all hundred. Shared, the expected value is the rate times the category's average
    margin, and the chance of buying any (``targeting.any_purchase_probability``) stays at or below
    the rate.
    """
    product_categories = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "category_id"))
    # Every customer's sales, the ones not asked about skipped below: the consenting customers of a large
    # shop are more ids than one query may name (PostgreSQL takes 65,535 parameters).
    sales = OrderLine.objects.sales().filter(order__customer__isnull=False, quantity__gt=0)
    day = TruncDate("order__placed_at")
    total_days = dict(
        sales.order_by()
        .values("order__customer_id")
        .annotate(days=Count(day, distinct=True))
        .values_list("order__customer_id", "days")
    )
    categories = {category for category in product_categories.values() if category is not None}
    by_category = (
        sales.filter(product__category_id__in=categories)
        .order_by()
        .values("order__customer_id", "product__category_id")
        .annotate(days=Count(day, distinct=True))
        .values_list("order__customer_id", "product__category_id", "days")
    )
    uncategorised = [pk for pk, category in product_categories.items() if category is None]
    by_product = (
        sales.filter(product_id__in=uncategorised)
        .order_by()
        .values("order__customer_id", "product_id")
        .annotate(days=Count(day, distinct=True))
        .values_list("order__customer_id", "product_id", "days")
    )
    position = {int(customer_id): index for index, customer_id in enumerate(customer_ids.tolist())}
    days_total = np.array(
        [total_days.get(int(customer_id), 0) for customer_id in customer_ids], dtype="float64"
    )
    category_days: dict[int, np.ndarray] = {}
    for customer_id, category_id, days in by_category:
        if customer_id in position:
            category_days.setdefault(category_id, np.zeros(len(customer_ids)))[position[customer_id]] = days
    product_days: dict[int, np.ndarray] = {}
    for customer_id, product_id, days in by_product:
        if customer_id in position:
            product_days.setdefault(product_id, np.zeros(len(customer_ids)))[position[customer_id]] = days
    promoted_in_category = Counter(product_categories.get(product_id) for product_id in product_ids)
    matrix = np.zeros((len(customer_ids), len(product_ids)), dtype="float64")
    for column, product_id in enumerate(product_ids):
        category_id = product_categories.get(product_id)
        if category_id is None:
            counts, sharing = product_days.get(product_id), 1
        else:
            counts, sharing = category_days.get(category_id), promoted_in_category[category_id]
        if counts is not None:
            matrix[:, column] = targeting.category_purchase_rates(counts, days_total) / sharing
    return matrix


def _purchase_probabilities(
    customer_ids: np.ndarray, product_ids: list[int]
) -> tuple[np.ndarray, int | None]:
    try:
        return purchase_probabilities(customer_ids=customer_ids.tolist(), product_ids=product_ids)
    except LookupError:
        logger.info("No served recommender: scoring targets by category purchase rate")
        return _fallback_probabilities(customer_ids, product_ids), None


def _excluded_customers(*, promotion: Promotion, product_ids: list[int], today: dt.date) -> set[int]:
    excluded: set[int] = set()
    if promotion.exclude_bought_within_days > 0:
        since = timezone.now() - dt.timedelta(days=promotion.exclude_bought_within_days)
        excluded.update(
            OrderLine.objects.filter(product_id__in=product_ids, quantity__gt=0, order__placed_at__gte=since)
            .exclude(order__status=Order.Status.CANCELLED)
            .exclude(order__customer__isnull=True)
            .values_list("order__customer_id", flat=True)
            .distinct()
        )
    if promotion.exclude_contacted_within_days > 0:
        # Contacted = in the target group (the control group hears nothing) of another promotion that
        # started within the window.
        since_day = today - dt.timedelta(days=promotion.exclude_contacted_within_days)
        excluded.update(
            PromotionTarget.objects.filter(
                group=PromotionTarget.Group.TARGET,
                promotion__starts_on__gte=since_day,
                promotion__starts_on__lte=today,
            )
            .exclude(promotion=promotion)
            .values_list("customer_id", flat=True)
            .distinct()
        )
    return excluded


def promotion_compute_targets(
    *, promotion: Promotion, progress: Callable[..., None] | None = None
) -> Promotion:
    """Rank the consenting customers by expected margin from the promoted products, drop the excluded,
    keep the top ``audience_size`` and hold out a reproducible random control share of them."""
    progress = progress or (lambda fraction, message="": None)
    Promotion.objects.filter(pk=promotion.pk).update(status=Promotion.Status.COMPUTING)
    try:
        product_ids = promotion_product_ids(promotion=promotion)
        if not product_ids:
            raise ValueError(f"Promotion {promotion.pk} has no promoted products.")
        # A promotion should not sell what will be gone before it could be restocked.
        short = short_product_ids()
        product_ids = [product_id for product_id in product_ids if product_id not in short]
        if not product_ids:
            raise ValueError(
                f"Every product of promotion {promotion.pk} is forecast to run out before it could be "
                "restocked (INVENTORY_AVOID_STOCKOUTS): there is nothing to promote."
            )
        prices = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "price"))
        keep = 1 - float(promotion.discount_percent) / 100
        margins = np.array(
            [float(prices[pk]) * keep * settings.PROMOTION_MARGIN_RATE for pk in product_ids], dtype="float64"
        )
        customer_ids = np.fromiter(
            Customer.objects.consenting(promotion.consent_channel)
            .order_by("pk")
            .values_list("pk", flat=True),
            dtype="int64",
        )
        progress(0.1, f"Scoring {len(customer_ids):,} consenting customers")
        probabilities, model_version_id = _purchase_probabilities(customer_ids, product_ids)
        values = targeting.expected_values(probabilities, margins)
        scores = targeting.any_purchase_probability(probabilities)
        progress(0.6, "Applying exclusions")
        excluded = _excluded_customers(
            promotion=promotion, product_ids=product_ids, today=timezone.localdate()
        )
        eligible = ~np.isin(customer_ids, np.fromiter(excluded, dtype="int64", count=len(excluded)))
        chosen = targeting.select_audience(
            customer_ids, values, eligible=eligible, audience_size=promotion.audience_size, scores=scores
        )
        control = targeting.control_mask(
            len(chosen), control_share=promotion.control_share, seed=promotion.seed, promotion_id=promotion.pk
        )
        rows = (
            (
                promotion.pk,
                int(customer_ids[position]),
                rank,
                float(scores[position]),
                float(values[position]),
                PromotionTarget.Group.CONTROL if held_out else PromotionTarget.Group.TARGET,
            )
            for rank, (position, held_out) in enumerate(
                zip(chosen.tolist(), control.tolist(), strict=True), 1
            )
        )
        progress(0.8, f"Writing {len(chosen):,} targets")
        with transaction.atomic():
            PromotionTarget.objects.filter(promotion=promotion).delete()
            bulk_insert_rows(PromotionTarget, TARGET_FIELDS, rows)
            promotion.status = Promotion.Status.READY
            promotion.targets_computed_at = timezone.now()
            promotion.model_version_id = model_version_id
            promotion.save(update_fields=["status", "targets_computed_at", "model_version_id"])
    except BaseException:
        Promotion.objects.filter(pk=promotion.pk).update(status=Promotion.Status.FAILED)
        raise
    progress(1.0, f"{len(chosen):,} targets, {int(control.sum()):,} held out as control")
    return promotion


def promotion_results(*, promotion: Promotion) -> dict:
    """Conversion and revenue per customer of target and control during the promotion window, and the
    uplift with 95% intervals; stored in ``promotion.results``.

    A converter bought a promoted product in the window (``starts_on`` to ``ends_on``, whole days);
    revenue is net spend on the promoted products in the window, returns subtracted.
    """
    groups = dict(
        PromotionTarget.objects.filter(promotion=promotion)
        .order_by()
        .values("group")
        .annotate(count=Count("pk"))
        .values_list("group", "count")
    )
    if not groups:
        raise ValueError(f"Promotion {promotion.pk} has no targets yet; compute them first.")
    product_ids = promotion_product_ids(promotion=promotion)
    window = (
        OrderLine.objects.filter(
            product_id__in=product_ids,
            order__placed_at__date__gte=promotion.starts_on,
            order__placed_at__date__lte=promotion.ends_on,
            order__customer__promotion_targets__promotion=promotion,
        )
        .sales()
        .order_by()
        .values("order__customer_id", "order__customer__promotion_targets__group")
        .annotate(revenue=Sum(line_amount()), most_bought=Max("quantity"))
        .values_list("order__customer__promotion_targets__group", "revenue", "most_bought")
    )
    revenue: dict[str, list[float]] = {group: [] for group in PromotionTarget.Group.values}
    converters = dict.fromkeys(PromotionTarget.Group.values, 0)
    for group, amount, most_bought in window:
        revenue[group].append(float(amount or 0))
        converters[group] += int((most_bought or 0) > 0)
    results: dict = {
        "window": [promotion.starts_on.isoformat(), promotion.ends_on.isoformat()],
        "window_complete": timezone.localdate() > promotion.ends_on,
        "groups": {},
    }
    per_customer: dict[str, np.ndarray] = {}
    for group in PromotionTarget.Group.values:
        customers = int(groups.get(group, 0))
        spend = np.zeros(customers)
        spend[: len(revenue[group])] = revenue[group]
        per_customer[group] = spend
        results["groups"][group] = {
            "customers": customers,
            "converters": converters[group],
            "conversion_rate": converters[group] / customers if customers else None,
            "revenue": float(spend.sum()),
            "revenue_per_customer": float(spend.mean()) if customers else None,
        }
    target, control = results["groups"]["target"], results["groups"]["control"]
    results["conversion_uplift"] = None
    results["revenue_per_customer_uplift"] = None
    if target["customers"] and control["customers"]:
        results["conversion_uplift"] = uplift.proportion_difference(
            target["converters"], target["customers"], control["converters"], control["customers"]
        ).as_dict()
    if target["customers"] >= 2 and control["customers"] >= 2:
        results["revenue_per_customer_uplift"] = uplift.mean_difference(
            per_customer["target"], per_customer["control"]
        ).as_dict()
    results["computed_at"] = timezone.now().isoformat()
    promotion.results = results
    promotion.save(update_fields=["results"])
    return results


def promotion_targets_job_create(*, promotion: Promotion, user=None) -> Job:
    """The Job row of a targets computation (``crm.tasks.marketing.promotion_targets_enqueue`` queues it)."""
    return job_create(kind=Job.Kind.TARGETS, params={"promotion_id": promotion.pk}, user=user)

"""What the shop and the API read of baskets: a shopper's open basket, its lines with their products and
totals, the number of items for the shop's header, and a customer's baskets for their data export."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q, Sum

from crm.models import Basket, BasketLine, Customer
from crm.models.catalogue import LARGEST_ID


@dataclass(frozen=True)
class BasketSummary:
    """A basket's lines (each with its product and category), how many items and what they cost now.

    ``basket`` is None for a shopper who has no open basket yet: an empty basket.
    """

    basket: Basket | None
    lines: list[BasketLine] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def orderable(self) -> bool:
        return bool(self.lines) and all(line.orderable for line in self.lines)


def basket_open_for_customer(*, customer: Customer) -> Basket | None:
    return Basket.objects.filter(customer=customer, status=Basket.Status.OPEN).first()


def basket_open_anonymous(*, basket_id: int) -> Basket | None:
    """An anonymous visitor's open basket, by the id kept in their session."""
    return Basket.objects.filter(pk=basket_id, customer__isnull=True, status=Basket.Status.OPEN).first()


def basket_of_customer(*, customer: Customer, basket_id: int) -> Basket | None:
    """One of the customer's own baskets, open or ordered; anyone else's is None."""
    return Basket.objects.filter(pk=basket_id, customer=customer).first()


def basket_summary(*, basket: Basket | None) -> BasketSummary:
    """The basket's lines in the order they were added, with products (one query)."""
    if basket is None or basket.pk is None:
        return BasketSummary(basket=basket)
    lines = (
        BasketLine.objects.filter(basket=basket)
        .select_related("product__category")
        .order_by("added_at", "pk")
    )
    return BasketSummary(basket=basket, lines=list(lines))


def basket_item_count(*, user: AbstractBaseUser | None = None, basket_id: int | None = None) -> int:
    """Items in the open basket of ``user``'s customer, or in the anonymous basket ``basket_id``
    (one query; none when there is neither)."""
    wanted = Q()
    if user is not None and user.is_authenticated:
        wanted |= Q(basket__customer__user=user)
    if basket_id is not None:
        wanted |= Q(basket_id=basket_id, basket__customer__isnull=True)
    if not wanted:
        return 0
    lines = BasketLine.objects.filter(wanted, basket__status=Basket.Status.OPEN)
    return lines.aggregate(items=Sum("quantity"))["items"] or 0


def basket_list_for_data_export(customer: Customer) -> list[dict[str, Any]]:
    """A customer's baskets with their lines, for their data export."""
    baskets = (
        Basket.objects.filter(customer=customer)
        .select_related("order")
        .prefetch_related("lines__product")
        .order_by("created_at", "pk")
    )
    return [
        {
            "status": basket.status,
            "created_at": basket.created_at.isoformat(),
            "updated_at": basket.updated_at.isoformat(),
            "order_id": basket.order.external_id if basket.order else None,
            "lines": [
                {
                    "product_id": line.product.external_id,
                    "product_name": line.product.name,
                    "quantity": line.quantity,
                    "added_at": line.added_at.isoformat(),
                }
                for line in sorted(basket.lines.all(), key=lambda line: (line.added_at, line.pk))
            ],
        }
        for basket in baskets
    ]


def basket_line_get(
    *, basket: Basket | None, product_id: int | None = None, external_id: str | None = None
) -> BasketLine | None:
    """The line of a product (by database id or by the retailer's id) in ``basket``, with its basket and
    product; None if the basket holds none."""
    if basket is None or (product_id is None and external_id is None):
        return None
    lines = BasketLine.objects.filter(basket=basket).select_related("basket", "product")
    if product_id is not None:
        if not 0 < product_id <= LARGEST_ID:  # a URL's number past any id (the database would refuse it)
            return None
        return lines.filter(product_id=product_id).first()
    return lines.filter(product__external_id=external_id).first()

"""What the staff customer pages read: the filtered list (and its CSV) and the customer 360."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import (
    Count,
    F,
    FilteredRelation,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from crm.models import Customer, CustomerNote, Order, OrderLine, SegmentRun
from crm.models.orders import line_amount

CUSTOMER_CSV_COLUMNS = (
    "external_id",
    "name",
    "email",
    "country",
    "email_opt_in",
    "orders",
    "last_order_at",
    "rfm_group",
    "predicted_clv_12m",
    "churn_risk",
    "high_value",
)
# Latest orders shown with their lines on the customer 360 page: wholesale customers have hundreds of
# orders of dozens of lines, and the page must stay fast for them (the totals cover every order).
ORDERS_SHOWN = 15


@dataclass(frozen=True)
class CustomerFilters:
    """The filters of the staff customer list; empty values mean "any"."""

    search: str = ""
    country: str = ""
    rfm_group: str = ""
    high_value: bool | None = None
    consent: bool | None = None


def segment_run_latest_id() -> int | None:
    return SegmentRun.objects.newest_first().values_list("pk", flat=True).first()


def customer_list(*, filters: CustomerFilters, run_id: int | None = None) -> QuerySet[Customer]:
    """Customers with their order count, last order and segment in the given (latest) run."""
    orders = Order.objects.sales().filter(customer=OuterRef("pk"))
    customers = Customer.objects.annotate(
        latest_segment=FilteredRelation("segments", condition=Q(segments__run_id=run_id)),
        order_count=Coalesce(
            Subquery(orders.order_by().values("customer").annotate(n=Count("pk")).values("n")[:1]), 0
        ),
        last_order_at=Subquery(
            orders.order_by().values("customer").annotate(latest=Max("placed_at")).values("latest")[:1]
        ),
        rfm_group=F("latest_segment__rfm_group"),
        predicted_clv_12m=F("latest_segment__predicted_clv_12m"),
        churn_risk=F("latest_segment__churn_risk"),
        high_value=F("latest_segment__high_value"),
    )
    if filters.search:
        term = filters.search.strip()
        customers = customers.filter(
            Q(name__icontains=term) | Q(email__icontains=term) | Q(external_id__iexact=term)
        )
    if filters.country:
        customers = customers.filter(country=filters.country)
    if filters.rfm_group:
        customers = customers.filter(latest_segment__rfm_group=filters.rfm_group)
    if filters.high_value is not None:
        if filters.high_value:
            customers = customers.filter(latest_segment__high_value=True)
        else:
            customers = customers.exclude(latest_segment__high_value=True)
    if filters.consent is not None:
        customers = customers.filter(email_opt_in=filters.consent)
    return customers.order_by("external_id")


def customer_country_list() -> list[str]:
    return list(
        Customer.objects.exclude(country="").order_by("country").values_list("country", flat=True).distinct()
    )


def customer_csv_rows(customers: QuerySet[Customer]) -> Iterator[list]:
    yield list(CUSTOMER_CSV_COLUMNS)
    for customer in customers.iterator(chunk_size=2000):
        yield [
            customer.external_id,
            customer.name,
            customer.email,
            customer.country,
            "yes" if customer.email_opt_in else "no",
            customer.order_count,
            customer.last_order_at.isoformat() if customer.last_order_at else "",
            customer.rfm_group or "",
            "" if customer.predicted_clv_12m is None else f"{customer.predicted_clv_12m:.2f}",
            "" if customer.churn_risk is None else f"{customer.churn_risk:.3f}",
            {True: "yes", False: "no", None: ""}[customer.high_value],
        ]


def customer_order_list(*, customer: Customer, limit: int = ORDERS_SHOWN) -> list[Order]:
    """The customer's latest orders, each with its lines and their products (three queries)."""
    return list(
        Order.objects.filter(customer=customer)
        .order_by("-placed_at")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("product").order_by("line_number"),
            )
        )[:limit]
    )


def customer_order_totals(*, customer: Customer) -> dict:
    """Every order of the customer (``orders``, as the order list counts them), the sales among them
    (``sales``, ``revenue``, ``last_order_at``) and the returns (``returns``, ``refunded``: negative),
    in one query."""
    sale = ~Q(order__status__in=Order.NOT_SALES)
    returned = Q(order__status=Order.Status.RETURNED)
    return OrderLine.objects.filter(order__customer=customer).aggregate(
        orders=Count("order", distinct=True),
        sales=Count("order", distinct=True, filter=sale),
        revenue=Sum(line_amount(), filter=sale),
        last_order_at=Max("order__placed_at", filter=sale),
        returns=Count("order", distinct=True, filter=returned),
        refunded=Sum(line_amount(), filter=returned),
    )


def customer_note_list(*, customer: Customer) -> list[CustomerNote]:
    return list(
        CustomerNote.objects.filter(customer=customer).select_related("author").order_by("-created_at")
    )

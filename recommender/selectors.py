"""What pages and the API read of the recommender: always the served (active) version's rows."""

from django.conf import settings
from django.db.models import Q, QuerySet

from crm.models import Customer, Product
from crm.models.catalogue import available_product_q
from crm.prepared import PreparedValues
from recommender.models import ModelVersion, PopularProduct, ProductNeighbour, Recommendation


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.active().first()


def recommendation_list_for_customer(*, customer: Customer, limit: int | None = None) -> list[dict]:
    """The customer's recommendations from the served version, best first, each with its reason.

    Reads one version only: the filter on the active status and the rows are one query, so a
    switch of version in between cannot mix two versions. Customers the version did not score
    (new since training) get the popular-in-country list, then popular overall.
    Inactive and out-of-stock products are filtered at read time as well, since stock changes
    between scorings.
    """
    limit = limit or settings.RECOMMENDER_TOP_N
    rows = list(
        Recommendation.objects.filter(customer=customer, model_version__status=ModelVersion.Status.ACTIVE)
        .filter(product__in=Product.objects.available())
        .select_related("product", "product__category")
        .order_by("rank")[:limit]
    )
    if rows:
        return [
            {
                "product": row.product,
                "rank": position,
                "score": row.score,
                "reason": row.reason,
                "model_version_id": row.model_version_id,
            }
            for position, row in enumerate(rows, start=1)
        ]
    return popular_list_for_country(country=customer.country, limit=limit)


def popular_list_for_country(*, country: str, limit: int) -> list[dict]:
    """Cold start: popular in the country, topped up with popular overall."""
    candidates = list(
        PopularProduct.objects.filter(
            model_version__status=ModelVersion.Status.ACTIVE, country__in=[country or "", ""]
        )
        .filter(product__in=Product.objects.available())
        .select_related("product", "product__category")
        .order_by("-country", "rank")[: limit * 3]
    )
    seen: set[int] = set()
    result: list[dict] = []
    for row in candidates:
        if row.product_id in seen:
            continue
        seen.add(row.product_id)
        reason = f"Popular in {row.country}" if row.country else "Popular with our customers"
        result.append(
            {
                "product": row.product,
                "rank": len(result) + 1,
                "score": row.score,
                "reason": reason,
                "model_version_id": row.model_version_id,
            }
        )
        if len(result) >= limit:
            break
    return result


def similar_product_list(*, product: Product, limit: int = 10) -> QuerySet[ProductNeighbour]:
    """ "Bought together": neighbours of a product in the served version, available ones only."""
    return (
        ProductNeighbour.objects.filter(product=product, model_version__status=ModelVersion.Status.ACTIVE)
        .filter(neighbour__in=Product.objects.available())
        .select_related("neighbour", "neighbour__category")
        .order_by("rank")[:limit]
    )


def click_through_rate_by_version() -> list[dict]:
    """Recommendation impressions, clicks and CTR per model version, newest version first."""
    from django.db.models import Count

    from crm.models import BehaviourEvent

    rows = (
        BehaviourEvent.objects.filter(
            model_version_id__isnull=False,
            kind__in=[
                BehaviourEvent.Kind.RECOMMENDATION_IMPRESSION,
                BehaviourEvent.Kind.RECOMMENDATION_CLICK,
            ],
        )
        .values("model_version_id")
        .annotate(
            impressions=Count("id", filter=Q(kind=BehaviourEvent.Kind.RECOMMENDATION_IMPRESSION)),
            clicks=Count("id", filter=Q(kind=BehaviourEvent.Kind.RECOMMENDATION_CLICK)),
        )
        .order_by("-model_version_id")
    )
    return [
        {**row, "ctr": (row["clicks"] / row["impressions"]) if row["impressions"] else None} for row in rows
    ]


def recommendation_export_rows(*, model_version: ModelVersion, top: int):
    """(customer external id, product external id, rank, score, reason), streamed in rank order."""
    return (
        Recommendation.objects.filter(model_version=model_version, rank__lte=top)
        .order_by("customer__external_id", "rank")
        .values_list("customer__external_id", "product__external_id", "rank", "score", "reason")
        .iterator(chunk_size=10_000)
    )


RECOMMENDATION_ROW_FIELDS = (
    "product__external_id",
    "product__name",
    "product__category__path",
    "product__price",
    "rank",
    "score",
    "reason",
    "model_version_id",
)


def _served_rows_queryset(value, *, by: str, limit: int) -> QuerySet:
    return (
        Recommendation.objects.filter(**{by: value}, model_version__status=ModelVersion.Status.ACTIVE)
        .filter(available_product_q("product__"))
        .order_by("rank")
        .values(*RECOMMENDATION_ROW_FIELDS)[:limit]
    )


# The API's hot path: compiled once per process, then one indexed query per request.
_SERVED_ROWS = PreparedValues(_served_rows_queryset)


def served_recommendation_rows(
    *, limit: int, customer: Customer | None = None, customer_external_id: str | None = None
) -> list[dict]:
    """Plain values of the served version's available recommendations for one customer (the row or the
    retailer's id), ranked 1..n."""
    if customer is not None:
        rows = _SERVED_ROWS.rows(customer.pk, by="customer_id", limit=limit)
    else:
        rows = _SERVED_ROWS.rows(customer_external_id, by="customer__external_id", limit=limit)
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
    return rows


def recommendation_rows_for_customer(*, customer: Customer, limit: int | None = None) -> list[dict]:
    """The same list as ``recommendation_list_for_customer``, as plain values for the API.

    One query with no model instances: the API's hot path (hundreds of requests a second).
    """
    limit = limit or settings.RECOMMENDER_TOP_N
    rows = served_recommendation_rows(customer=customer, limit=limit)
    if not rows:
        return [
            {
                "product__external_id": row["product"].external_id,
                "product__name": row["product"].name,
                "product__category__path": row["product"].category.path if row["product"].category else None,
                "product__price": row["product"].price,
                "rank": row["rank"],
                "score": row["score"],
                "reason": row["reason"],
                "model_version_id": row["model_version_id"],
            }
            for row in popular_list_for_country(country=customer.country, limit=limit)
        ]
    return rows

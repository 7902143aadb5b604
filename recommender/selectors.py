"""What pages and the API read of the recommender: always the served (active) version's rows."""

import datetime as dt
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.db.models import CharField, Count, Exists, F, Max, Q, QuerySet, Value
from django.db.models.functions import Now
from django.utils import timezone

from core.prepared import PreparedValues
from crm.models import Basket, BasketLine, BehaviourEvent, Customer, Order, OrderLine, Product
from crm.models.behaviour import EVENT_CLOCK_SKEW
from crm.models.catalogue import available_product_q
from recommender.ml import realtime
from recommender.models import ModelVersion, PopularProduct, ProductNeighbour, Recommendation


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.active().first()


# RECOMMENDER_NEW_ITEM_WEIGHT's value for "each version's own weight" (ModelVersion.chosen_new_item_weight).
NEW_ITEM_WEIGHT_AUTO = "auto"
# Under "auto", the weight of a version trained before versions chose their own: the fixed default of
# then, chosen on two validation months of UCI (BENCHMARKS.md, "The discovery weight on two validation
# months").
NEW_ITEM_WEIGHT_UNCHOSEN = 2.2


def new_item_weight_for(
    *, model_version: ModelVersion | None = None, model_version_id: int | None = None
) -> float:
    """The weight of never-bought products a version's lists are ordered by now: RECOMMENDER_NEW_ITEM_WEIGHT
    when it is a number; with "auto", the version's own (``ModelVersion.own_new_item_weight``: the one
    staff set, else the one its training chose), read from ``model_version`` or with one query by
    ``model_version_id``."""
    setting = settings.RECOMMENDER_NEW_ITEM_WEIGHT
    if setting != NEW_ITEM_WEIGHT_AUTO:
        return float(setting)
    own = None
    if model_version is not None:
        own = model_version.own_new_item_weight
    elif model_version_id is not None:
        staff_set, chosen = ModelVersion.objects.filter(pk=model_version_id).values_list(
            f"params__{ModelVersion.NEW_ITEM_WEIGHT_SET_PARAM}__weight",
            f"params__{ModelVersion.NEW_ITEM_WEIGHT_PARAM}",
        ).first() or (None, None)
        own = staff_set if staff_set is not None else chosen
    return float(own) if own is not None else NEW_ITEM_WEIGHT_UNCHOSEN


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
    "product_id",
    "product__external_id",
    "product__name",
    "product__category__name",
    "product__category__path",
    "product__price",
    "rank",
    "score",
    "reason",
    "model_version_id",
)


def _served_rows_queryset(
    value, *, by: str, limit: int, activity: tuple[str, str, int] | None = None
) -> QuerySet:
    rows = Recommendation.objects.filter(**{by: value}, model_version__status=ModelVersion.Status.ACTIVE)
    fields = RECOMMENDATION_ROW_FIELDS
    if activity is not None:
        # Whether the customer did anything in the real-time window or holds an open basket, in the same
        # read: most customers did not, and they need no query of their signals.
        by_event, by_line, window_minutes = activity
        events = BehaviourEvent.objects.filter(
            **{by_event: value},
            kind__in=SIGNAL_EVENT_KINDS,
            product__isnull=False,
            at__gte=Now() - dt.timedelta(minutes=window_minutes),
        )
        lines = BasketLine.objects.filter(**{by_line: value}, basket__status=Basket.Status.OPEN)
        rows = rows.annotate(**{_RECENT: Exists(events), _IN_BASKET: Exists(lines)})
        fields = (*fields, _RECENT, _IN_BASKET)
    return rows.filter(available_product_q("product__")).order_by("rank").values(*fields)[:limit]


# The hot path of every face (API, shop, portal): compiled once per process, then one indexed query.
_SERVED_ROWS = PreparedValues(_served_rows_queryset)
_RECENT, _IN_BASKET = "recent_activity", "open_basket"


def served_recommendation_rows(
    *,
    limit: int,
    customer: Customer | None = None,
    customer_external_id: str | None = None,
    with_activity: bool = False,
) -> list[dict]:
    """Plain values of the served version's available recommendations for one customer (the row or the
    retailer's id), ranked 1..n. ``with_activity`` also says, on each row, whether the customer has
    signals for the real-time re-ranking (``has_signals``)."""
    if customer is not None:
        value, by, by_event, by_line = customer.pk, "customer_id", "customer_id", "basket__customer_id"
    else:
        value, by = customer_external_id, "customer__external_id"
        by_event, by_line = "customer__external_id", "basket__customer__external_id"
    activity = (by_event, by_line, settings.RECOMMENDER_REALTIME_WINDOW_MINUTES) if with_activity else None
    rows = _SERVED_ROWS.rows(value, by=by, limit=limit, activity=activity)
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
        if with_activity:
            row["has_signals"] = row.pop(_RECENT) or row.pop(_IN_BASKET)
            row.pop(_IN_BASKET, None)
    return rows


def popular_rows_for_country(*, country: str, limit: int) -> list[dict]:
    """Cold start: popular in the country, topped up with popular overall, as the same plain rows."""
    candidates = (
        PopularProduct.objects.filter(
            model_version__status=ModelVersion.Status.ACTIVE, country__in=[country or "", ""]
        )
        .filter(available_product_q("product__"))
        .order_by("-country", "rank")
        .values(*(field for field in RECOMMENDATION_ROW_FIELDS if field != "reason"), "country")[: limit * 3]
    )
    seen: set[int] = set()
    result: list[dict] = []
    for row in candidates:
        if row["product_id"] in seen:
            continue
        seen.add(row["product_id"])
        popular_in = row.pop("country")
        row["reason"] = f"Popular in {popular_in}" if popular_in else "Popular with our customers"
        row["rank"] = len(result) + 1
        result.append(row)
        if len(result) >= limit:
            break
    if not result and not ModelVersion.objects.active().exists():
        return [dict(row) for row in _bestsellers_before_any_version()[:limit]]
    return result


# Before any version is served (a new shop, until its first training is done), the popular list is read
# from the orders: the products most customers bought in the last BESTSELLER_DAYS of the order history.
BESTSELLER_DAYS = 90
BESTSELLERS_KEPT = 100
BESTSELLERS_CACHE_SECONDS = 300


def _bestsellers_before_any_version() -> list[dict]:
    return cache.get_or_set("recommender:bestsellers", _bestsellers, BESTSELLERS_CACHE_SECONDS)


def _bestsellers() -> list[dict]:
    last = Order.objects.sales().aggregate(last=Max("placed_at"))["last"]
    if last is None:
        return []
    lines = OrderLine.objects.sales().filter(
        order__placed_at__gt=last - dt.timedelta(days=BESTSELLER_DAYS),
        order__customer__isnull=False,
        quantity__gt=0,
    )
    buyers = lines.aggregate(buyers=Count("order__customer_id", distinct=True))["buyers"] or 1
    product_fields = [field for field in RECOMMENDATION_ROW_FIELDS if field.startswith("product")]
    rows = (
        lines.filter(available_product_q("product__"))
        .values(*product_fields)
        .annotate(buyers=Count("order__customer_id", distinct=True))
        .order_by("-buyers", "product_id")[:BESTSELLERS_KEPT]
    )
    return [
        {
            **{field: row[field] for field in product_fields},
            "rank": rank,
            "score": row["buyers"] / buyers,
            "reason": "Popular with our customers",
            "model_version_id": None,
        }
        for rank, row in enumerate(rows, start=1)
    ]


def recommendation_rows_for_customer(
    *, customer: Customer | None = None, customer_external_id: str | None = None, limit: int | None = None
) -> list[dict]:
    """The customer's recommendations from the served version, best first, each with its reason: the one
    read of every face (shop, portal, API). The customer is the row or, for staff callers who only have
    it, the retailer's id (one query fewer; an unknown id gives no rows).

    Plain values, no model instances (hundreds of requests a second on the API). The stored rows are one
    query of one version: the filter on the active status and the rows are one query, so a switch of
    version in between cannot mix two versions. Customers the version did not score (new since training)
    get the popular-in-country list, then popular overall. Inactive and out-of-stock products are
    filtered at read time as well, since stock changes between scorings. Reasons were rendered when the
    rows were written.

    What the shopper did in the last minutes (``recent_signals``: the basket, products just added, bought
    or viewed) re-ranks the stored rows at read time (``realtime_rows``), so a page reflects it at once.
    """
    limit = limit or settings.RECOMMENDER_TOP_N
    by = (
        {"customer_id": customer.pk}
        if customer is not None
        else {"customer_external_id": customer_external_id}
    )
    # With signals, products further down the stored list may move up: read all of it. The same read
    # says whether there are any signals to read.
    wanted = max(limit, settings.RECOMMENDER_TOP_N)
    rows = served_recommendation_rows(
        customer=customer, customer_external_id=customer_external_id, limit=wanted, with_activity=True
    )
    signals = recent_signals(**by) if not rows or rows[0]["has_signals"] else []
    for row in rows:
        del row["has_signals"]
    if not rows and customer is not None:
        rows = popular_rows_for_country(country=customer.country, limit=wanted)
    return realtime_rows(rows=rows, signals=signals, limit=limit, customer=by)


def recommendation_rows_for_session(
    *, session_key: str, basket_id: int | None = None, country: str = "", limit: int | None = None
) -> list[dict]:
    """A visitor who is not signed in: the popular list, re-ranked by what this visit did (the events
    recorded under the session's ``session_key`` and the basket the session holds)."""
    limit = limit or settings.RECOMMENDER_TOP_N
    signals = recent_signals(session_key=session_key, basket_id=basket_id)
    wanted = max(limit, settings.RECOMMENDER_TOP_N) if signals else limit
    rows = popular_rows_for_country(country=country, limit=wanted)
    return realtime_rows(rows=rows, signals=signals, limit=limit)


def basket_completion_rows(
    *, basket: Sequence[tuple[int, str]], customer: Customer | None = None, limit: int | None = None
) -> list[dict]:
    """ "Complete your basket": what goes with the ``basket``'s products ((id, name), the last added
    last), blended with the customer's stored list (and their recent activity) when there is a
    customer, else with the popular list. The basket's products themselves are never recommended."""
    limit = limit or settings.RECOMMENDER_TOP_N
    signals = [realtime.Signal(product_id, "basket", name) for product_id, name in reversed(basket)]
    wanted = max(limit, settings.RECOMMENDER_TOP_N)
    rows = []
    if customer is not None:
        signals += recent_signals(customer_id=customer.pk, with_basket=False)
        rows = served_recommendation_rows(customer=customer, limit=wanted)
    if not rows:
        rows = popular_rows_for_country(country=customer.country if customer else "", limit=wanted)
    return realtime_rows(
        rows=rows,
        signals=signals,
        limit=limit,
        version_id=None if rows else model_version_active_id(),
        customer={"customer_id": customer.pk} if customer is not None else None,
    )


# --- Real time: recent signals and the neighbours that re-rank the stored rows ---------------------

# Kinds of behaviour event that say what the shopper wants next (impressions, searches and clicks on
# recommendations do not name a product they want more of).
SIGNAL_EVENT_KINDS = ("view", "add_to_cart", "purchase")
# Read with them: a product taken out of the basket after it was added is no longer "in your basket".
CANCELLING_KINDS = {"remove_from_cart": "add_to_cart"}


def _recent_events_queryset(value, *, by: str) -> QuerySet:
    return (
        BehaviourEvent.objects.filter(
            **{by: value}, kind__in=(*SIGNAL_EVENT_KINDS, *CANCELLING_KINDS), product__isnull=False
        )
        .order_by("-at")
        .values("product_id", "kind", "at")[: realtime.MAX_SIGNALS]
    )


def _basket_lines_queryset(value, *, by: str) -> QuerySet:
    """The open basket's products in the shape of the events (kind "basket", at = when added)."""
    return (
        BasketLine.objects.filter(**{by: value}, basket__status=Basket.Status.OPEN)
        .annotate(kind=Value("basket", output_field=CharField()), at=F("added_at"))
        .order_by("-added_at", "-pk")
        .values("product_id", "kind", "at")[: realtime.MAX_SIGNALS]
    )


def _signals_queryset(value, *, by_event: str, by_line: str) -> QuerySet:
    """The basket and the recent events in one query (databases whose unions take ordered, limited
    parts, PostgreSQL among them)."""
    return _recent_events_queryset(value, by=by_event).union(
        _basket_lines_queryset(value, by=by_line), all=True
    )


# Read on every recommendation request: compiled once per process, one indexed query (two where the
# database cannot take the union).
_RECENT_EVENTS = PreparedValues(_recent_events_queryset)
_BASKET_LINES = PreparedValues(_basket_lines_queryset)
_SIGNALS = PreparedValues(_signals_queryset)


def _basket_and_events(value: int | str, *, by_event: str, by_line: str, with_basket: bool) -> list[dict]:
    if not with_basket:
        return _RECENT_EVENTS.rows(value, by=by_event)
    if connections[router.db_for_read(BehaviourEvent)].features.supports_slicing_ordering_in_compound:
        return _SIGNALS.rows(value, by_event=by_event, by_line=by_line)
    return _BASKET_LINES.rows(value, by=by_line) + _RECENT_EVENTS.rows(value, by=by_event)


def recent_signals(
    *,
    customer_id: int | None = None,
    customer_external_id: str | None = None,
    session_key: str = "",
    basket_id: int | None = None,
    with_basket: bool = True,
) -> list[realtime.Signal]:
    """What the customer (or the anonymous session, with the basket it holds) has in the basket, the
    last added first, then what they did in the last ``RECOMMENDER_REALTIME_WINDOW_MINUTES``, newest
    first. ``with_basket=False`` leaves the basket to the caller, who has read it already."""
    if customer_id is not None:
        rows = _basket_and_events(
            customer_id, by_event="customer_id", by_line="basket__customer_id", with_basket=with_basket
        )
    elif customer_external_id is not None:
        rows = _basket_and_events(
            customer_external_id,
            by_event="customer__external_id",
            by_line="basket__customer__external_id",
            with_basket=with_basket,
        )
    else:
        rows = _BASKET_LINES.rows(basket_id, by="basket_id") if with_basket and basket_id is not None else []
        rows += _RECENT_EVENTS.rows(session_key, by="session_key") if session_key else []
    lines = sorted((row for row in rows if row["kind"] == "basket"), key=lambda row: row["at"], reverse=True)
    events = sorted((row for row in rows if row["kind"] != "basket"), key=lambda row: row["at"], reverse=True)
    now = timezone.now()
    since = now - dt.timedelta(minutes=settings.RECOMMENDER_REALTIME_WINDOW_MINUTES)
    # An event stamped in the future by a sender's clock would otherwise lead the list for as long.
    until = now + EVENT_CLOCK_SKEW
    # Names are read with the neighbours, for the few signals that end up in a reason.
    return [realtime.Signal(line["product_id"], "basket") for line in lines] + [
        realtime.Signal(event["product_id"], event["kind"])
        for event in _not_cancelled(events)
        if since <= event["at"] <= until
    ]


def _not_cancelled(events: list[dict]) -> list[dict]:
    """The events (newest first) less the cancelling ones and those they cancel: an add to the basket
    followed by a removal of the same product. An add after the removal counts again."""
    cancelled: set[tuple[str, int]] = set()
    kept = []
    for event in events:
        if event["kind"] in CANCELLING_KINDS:
            cancelled.add((CANCELLING_KINDS[event["kind"]], event["product_id"]))
        elif (event["kind"], event["product_id"]) not in cancelled:
            kept.append(event)
    return kept


def model_version_active_id() -> int | None:
    return ModelVersion.objects.active().values_list("id", flat=True).first()


# A neighbour's fields under the names of a recommendation row's product fields.
_NEIGHBOUR_AS_PRODUCT = {
    field: "neighbour_id" if field == "product_id" else "neighbour__" + field.removeprefix("product__")
    for field in RECOMMENDATION_ROW_FIELDS
    if field.startswith("product")
}


def _neighbours_queryset(product_ids: tuple[int, ...], *, version_id: int, per_product: int) -> QuerySet:
    # Unordered: the blend needs no order, and the default ordering would join the version and product.
    return (
        ProductNeighbour.objects.filter(
            model_version_id=version_id, product_id__in=product_ids, rank__lte=per_product
        )
        .filter(available_product_q("neighbour__"))
        .order_by()
        .values("product_id", "product__name", "score", *_NEIGHBOUR_AS_PRODUCT.values())
    )


_NEIGHBOURS = PreparedValues(_neighbours_queryset)


def _neighbour_rows(*, version_id: int, product_ids: Iterable[int]) -> list[dict]:
    """The served version's "bought together" neighbours of these products that may be shown, with the
    neighbour's fields in the shape of a recommendation row and the product's own name."""
    return _NEIGHBOURS.rows(
        tuple(sorted(product_ids)),
        version_id=version_id,
        per_product=settings.RECOMMENDER_REALTIME_NEIGHBOURS,
    )


def _bought_among(customer: dict, product_ids: Iterable[int]) -> set[int]:
    """Which of ``product_ids`` the customer (``{"customer_id": pk}`` or ``{"customer_external_id": id}``)
    ever bought.

    Two queries, each on an index (the customer's orders, then their lines among those products): as
    one join, PostgreSQL's plan walks every line of the products, thousands for a popular one (about 11
    ms a read on the UCI demo, against 1.8 ms for the two).
    """
    by = (
        {"customer_id": customer["customer_id"]}
        if "customer_id" in customer
        else {"customer__external_id": customer["customer_external_id"]}
    )
    # purchases as the model counts them (``services.frames``): a cancelled order bought nothing
    orders = list(
        Order.objects.filter(**by)
        .exclude(status=Order.Status.CANCELLED)
        .order_by()
        .values_list("pk", flat=True)
    )
    if not orders:
        return set()
    return set(
        OrderLine.objects.filter(order_id__in=orders, product_id__in=list(product_ids), quantity__gt=0)
        .order_by()
        .values_list("product_id", flat=True)
        .distinct()
    )


def realtime_rows(
    *,
    rows: list[dict],
    signals: list[realtime.Signal],
    limit: int,
    version_id: int | None = None,
    customer: dict | None = None,
) -> list[dict]:
    """The stored ``rows`` re-ranked by the neighbours of ``signals`` (``recommender.ml.realtime.blend``),
    products in the basket left out, ranked 1..``limit``. A product the signals brought up carries the
    reason naming the product behind it ("Because you viewed X") and the blended score.

    For a ``customer`` (``{"customer_id": pk}`` or ``{"customer_external_id": id}``) the list keeps the
    discovery rules that stored lists are ordered by (``RECOMMENDER_NEW_ITEM_WEIGHT``, with "auto" the
    version's own, one query more: ``new_item_weight_for``; ``RECOMMENDER_MIN_NEW_ITEMS``): two queries
    more read which of the products they bought (`_bought_among`)."""
    if not signals:
        return rows[:limit]
    version_id = version_id or next((row["model_version_id"] for row in rows), None)
    if version_id is None:
        return rows[:limit]
    by_product = {row["product_id"]: row for row in rows}
    neighbours: dict[int, list[tuple[int, float]]] = {}
    names: dict[int, str] = {}
    for neighbour in _neighbour_rows(version_id=version_id, product_ids={s.product_id for s in signals}):
        names[neighbour["product_id"]] = neighbour["product__name"]
        neighbours.setdefault(neighbour["product_id"], []).append(
            (neighbour["neighbour_id"], neighbour["score"])
        )
        if neighbour["neighbour_id"] not in by_product:
            by_product[neighbour["neighbour_id"]] = {
                **{field: neighbour[name] for field, name in _NEIGHBOUR_AS_PRODUCT.items()},
                "reason": "",
                "model_version_id": version_id,
            }
    new_item_weight = new_item_weight_for(model_version_id=version_id)
    discovery = settings.RECOMMENDER_MIN_NEW_ITEMS > 0 or new_item_weight != 1.0
    blended = realtime.blend(
        stored=[(row["product_id"], row["score"]) for row in rows],
        signals=signals,
        neighbours=neighbours,
        exclude={signal.product_id for signal in signals if signal.kind == "basket"},
        # the whole list, then its first ``limit``: a shorter list is the start of the longer one,
        # whose first places hold the never-bought products, not the first ``limit`` places alone
        limit=max(limit, settings.RECOMMENDER_TOP_N),
        weight=settings.RECOMMENDER_REALTIME_WEIGHT,
        bought=_bought_among(customer, by_product) if customer is not None and discovery else None,
        new_item_weight=new_item_weight,
        min_new_items=settings.RECOMMENDER_MIN_NEW_ITEMS,
    )
    result = []
    for position, choice in enumerate(blended[:limit], start=1):
        row = dict(by_product[choice.product_id], rank=position, score=round(choice.score, 6))
        if choice.because_of is not None:
            signal = choice.because_of
            row["reason"] = realtime.signal_reason(
                signal, name=signal.product_name or names.get(signal.product_id)
            )
        result.append(row)
    return result


def recommendation_was_shown(*, customer: Customer, product_id: int, model_version_id: int) -> bool:
    """Whether this version recommended this product to this customer (its list or, for customers
    it did not score, its popular list): a click on anything else is not a recommendation click."""
    if Recommendation.objects.filter(
        model_version_id=model_version_id, customer=customer, product_id=product_id
    ).exists():
        return True
    scored = Recommendation.objects.filter(model_version_id=model_version_id, customer=customer).exists()
    return (
        not scored
        and PopularProduct.objects.filter(
            model_version_id=model_version_id, product_id=product_id, country__in=[customer.country, ""]
        ).exists()
    )


# --- Model quality: each version's metrics against its baselines (portal dashboard and models pages) ---

MODEL_ORDER = ("mlp", "personal_top", "popular", "item_knn", "als")


MODEL_LABELS = {
    "mlp": "MLP ranker",
    "personal_top": "Personal top-frequency",
    "popular": "Popular",
    "item_knn": "Item kNN",
    "als": "ALS",
}


VERSIONS_SHOWN = 20


# Metric columns of the quality table: (key, label); "new_items.x" reads metric x on new items only.
METRIC_COLUMNS = (
    ("ndcg@10", "NDCG@10"),
    ("recall@10", "Recall@10"),
    ("hit_rate@10", "Hit rate@10"),
    ("precision@10", "Precision@10"),
    ("map@10", "MAP@10"),
    ("coverage", "Coverage"),
    ("new_items.ndcg@10", "New items NDCG@10"),
    ("new_items.recall@10", "New items Recall@10"),
)


# The dashboard's card has room for these; the models page shows every column.
DASHBOARD_METRICS = ("ndcg@10", "recall@10", "new_items.ndcg@10")


def _metric_value(model_metrics: dict, key: str) -> float | None:
    for part in key.split("."):
        if not isinstance(model_metrics, dict):
            return None
        model_metrics = model_metrics.get(part)
    return (
        model_metrics
        if isinstance(model_metrics, int | float) and not isinstance(model_metrics, bool)
        else None
    )


def model_quality_table(
    *, model_version: ModelVersion | None, metrics: tuple[str, ...] | None = None
) -> dict:
    """One row per model (the MLP and each baseline) of a version, one column per metric (those of
    ``metrics`` only, when given)."""
    if model_version is None or not model_version.metrics:
        return {"version": model_version, "columns": [], "rows": []}
    chosen = metrics
    metrics = {name: values for name, values in model_version.metrics.items() if isinstance(values, dict)}
    names = [name for name in MODEL_ORDER if name in metrics] + sorted(
        name for name in metrics if name not in MODEL_ORDER
    )
    columns = [
        {"key": key, "label": label}
        for key, label in METRIC_COLUMNS
        if (chosen is None or key in chosen)
        and any(_metric_value(metrics[name], key) is not None for name in names)
    ]
    best = {
        column["key"]: max(
            (value for name in names if (value := _metric_value(metrics[name], column["key"])) is not None),
            default=None,
        )
        for column in columns
    }
    rows = [
        {
            "key": name,
            "label": MODEL_LABELS.get(name, name),
            "cells": [
                {
                    "value": _metric_value(metrics[name], column["key"]),
                    "best": best[column["key"]] is not None
                    and _metric_value(metrics[name], column["key"]) == best[column["key"]],
                }
                for column in columns
            ],
        }
        for name in names
    ]
    return {"version": model_version, "columns": columns, "rows": rows}


def model_version_list(*, limit: int = VERSIONS_SHOWN) -> list[ModelVersion]:
    return list(ModelVersion.objects.select_related("job").order_by("-created_at")[:limit])


def best_baseline_ndcg(model_version: ModelVersion) -> tuple[str, float] | None:
    candidates = [
        (name, values.get("ndcg@10"))
        for name, values in (model_version.metrics or {}).items()
        if name != "mlp" and isinstance(values, dict) and isinstance(values.get("ndcg@10"), int | float)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda pair: pair[1])


def ndcg_by_version(versions: list[ModelVersion]) -> dict:
    """NDCG@10 of the MLP and of the best baseline per version, oldest first, for a line chart."""
    measured = [version for version in reversed(versions) if version.ndcg is not None]
    best = [best_baseline_ndcg(version) for version in measured]
    return {
        "labels": [f"v{version.pk}" for version in measured],
        "series": {
            "MLP": [version.ndcg for version in measured],
            "Best baseline": [pair[1] if pair else None for pair in best],
        },
    }

"""Scoring: a trained version's top-N per customer, written as rows, then served by activation."""

import functools
import itertools
import logging
import time
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.bulk import bulk_insert_rows
from core.jobs import JobReporter
from crm.models import Customer, OrderLine, Product
from inventory.selectors import product_ids_at_risk_before_delivery
from recommender.ml.forget import HISTORY_FILE
from recommender.models import ModelVersion, PopularProduct, ProductNeighbour, Recommendation
from recommender.reasons import ReasonRenderer
from recommender.selectors import new_item_weight_for
from recommender.services import frames

logger = logging.getLogger(__name__)

RECOMMENDATION_FIELDS = (
    "model_version_id",
    "customer_id",
    "product_id",
    "rank",
    "score",
    "reason",
    "explanation",
)
NEIGHBOURS_PER_PRODUCT = 12
# Times a chunk writes its rows again when an erasure committed between its check and its write.
ERASED_MEANWHILE_RETRIES = 2
# Product ids per query when naming co-purchased products: well under SQLite's limit of bound values.
NAMES_PER_QUERY = 5000
POPULAR_PER_COUNTRY = 50


def list_settings(model_version: ModelVersion) -> dict:
    """The settings a scoring of ``model_version`` cuts and orders the stored lists by, as
    ``ml.recommend`` takes them (the weight of never-bought products: ``new_item_weight_for``)."""
    return {
        "top_n": settings.RECOMMENDER_TOP_N,
        "allow_bought": settings.RECOMMENDER_ALLOW_BOUGHT,
        "max_per_category": settings.RECOMMENDER_MAX_PER_CATEGORY,
        "min_new_items": settings.RECOMMENDER_MIN_NEW_ITEMS,
        "new_item_weight": new_item_weight_for(model_version=model_version),
        "explanations": settings.RECOMMENDER_EXPLANATIONS,
    }


@functools.lru_cache(maxsize=2)
def _load_artifact(path: str, version_id: int, written_at_ns: int):
    from recommender import ml

    return ml.TrainedRecommender.load(path)


def trained_model_for(model_version: ModelVersion):
    """The version's trained model, loaded once per worker process (never in a web request).

    Keyed by when the artifact's History was written, so a worker never keeps serving statistics of
    a customer that an erasure has rewritten out of the file.
    """
    if not model_version.artifact_path:
        raise ValueError(f"Model version {model_version.pk} has no artifact.")
    history = Path(model_version.artifact_path) / HISTORY_FILE
    written_at_ns = history.stat().st_mtime_ns if history.exists() else 0
    return _load_artifact(model_version.artifact_path, model_version.pk, written_at_ns)


def scored_customer_ids() -> np.ndarray:
    """Customers with at least one catalogue purchase: the ones a model can personalise for."""
    ids = (
        OrderLine.objects.filter(
            product__isnull=False, order__customer__isnull=False, order__customer__anonymous=False
        )
        .order_by()
        .values_list("order__customer_id", flat=True)
        .distinct()
    )
    return np.sort(np.fromiter(ids, dtype="int64"))


def scoring_ranges(customer_ids: np.ndarray, chunk_size: int) -> list[tuple[int, int | None]]:
    """Contiguous customer-id ranges ``[low, high]`` (the last one open) of about ``chunk_size`` scored
    customers each: together they cover every id, so a customer added meanwhile still lands in one."""
    if len(customer_ids) == 0:
        return [(0, None)]
    starts = [int(customer_ids[index]) for index in range(0, len(customer_ids), max(1, chunk_size))]
    starts[0] = 0
    ends: list[int | None] = [start - 1 for start in starts[1:]] + [None]
    return list(zip(starts, ends, strict=True))


def model_version_score_start(*, model_version: ModelVersion) -> np.ndarray:
    """Mark the version scoring and drop any rows an earlier attempt left; returns the customers to score.
    Serving is unchanged until ``model_version_activate``.

    The products the inventory forecasts to run out are fixed here, once for the run, in the version's
    ``params["stock_risk_product_ids"]``: every chunk, on any worker, leaves out the same products, and
    the inventory's reorder frame is computed once rather than once per chunk. So are the lists'
    settings (``list_settings``: their length, the discovery rules, the explanations), in
    ``params["served_lists"]``: every chunk follows them, and the version says what its lists were
    ordered by."""
    at_risk = sorted(product_ids_at_risk_before_delivery())
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        params = {
            **version.params,
            ModelVersion.STOCK_RISK_PARAM: at_risk,
            ModelVersion.SERVED_LISTS_PARAM: list_settings(version),
        }
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.SCORING, scored_at=None, error="", params=params
        )
    model_version.params = params
    for table in (Recommendation, ProductNeighbour, PopularProduct):
        table.objects.filter(model_version=model_version).delete()
    return scored_customer_ids()


def servable_product_ids(*, model_version: ModelVersion) -> np.ndarray:
    """Products the version's scoring may recommend: available now, less those forecast at the start of
    the scoring to run out before they could be restocked (``INVENTORY_AVOID_STOCKOUTS``; none when that
    is off)."""
    at_risk = model_version.params.get(ModelVersion.STOCK_RISK_PARAM)
    if at_risk is None:
        # A range scored without model_version_score_start (a scoring begun before the list was kept).
        at_risk = product_ids_at_risk_before_delivery()
    return np.setdiff1d(frames.available_product_ids(), np.asarray(sorted(at_risk), dtype="int64"))


def explanations_with_product_names(documents: list[dict | None]) -> list[dict | None]:
    """The ``ml`` explanations as stored: the bought products most co-purchased with the recommended one
    named by their retailer's id and name (products only: nothing about the customer but that they
    bought them), read in one query; a product deleted since training is left out."""
    wanted = {
        product_id for document in documents if document for product_id in document["co_purchase_product_ids"]
    }
    wanted_ids = sorted(wanted)
    names: dict[int, dict] = {}
    for start in range(0, len(wanted_ids), NAMES_PER_QUERY):
        names.update(
            (product_id, {"external_id": external_id, "name": name})
            for product_id, external_id, name in Product.objects.filter(
                pk__in=wanted_ids[start : start + NAMES_PER_QUERY]
            ).values_list("id", "external_id", "name")
        )
    stored: list[dict | None] = []
    for document in documents:
        if not document:
            stored.append(None)
            continue
        stored.append(
            {
                "base": document["base"],
                "output": document["output"],
                "residual": document["residual"],
                "groups": document["groups"],
                "co_purchase_products": [
                    names[product_id]
                    for product_id in document["co_purchase_product_ids"]
                    if product_id in names
                ],
            }
        )
    return stored


def model_version_score_range(
    *, model_version: ModelVersion, low: int, high: int | None, customer_ids: np.ndarray | None = None
) -> int:
    """Write the version's recommendations for the scored customers with ids in ``[low, high]``, in one
    transaction that first deletes the version's rows of that range: running it twice (a redelivered
    chunk) leaves the same rows, and a chunk that dies leaves none half-written."""
    from recommender import ml

    if customer_ids is None:
        customer_ids = scored_customer_ids()
    chunk = customer_ids[(customer_ids >= low) & ((customer_ids <= high) if high is not None else True)]
    rows: list[tuple] = []
    if len(chunk):
        model = trained_model_for(model_version)
        renderer = ReasonRenderer()
        recommended = ml.recommend(
            model,
            customer_ids=chunk,
            available_product_ids=servable_product_ids(model_version=model_version),
            # a range scored without model_version_score_start (begun before the settings were kept)
            # takes this process's
            **(model_version.served_lists or list_settings(model_version)),
        )
        renderer.prefetch(recommended["reason"].unique())
        explanations = (
            explanations_with_product_names(recommended["explanation"].tolist())
            if "explanation" in recommended
            else [None] * len(recommended)
        )
        rows = [
            (
                model_version.pk,
                int(customer),
                int(product),
                int(rank),
                float(score),
                renderer.render(reason),
                explanation,
            )
            for (customer, product, rank, score, reason), explanation in zip(
                recommended[["customer_id", "product_id", "rank", "score", "reason"]].itertuples(
                    index=False, name=None
                ),
                explanations,
                strict=True,
            )
        ]
    for attempt in itertools.count():
        try:
            return _range_rows_replace(model_version=model_version, low=low, high=high, rows=rows)
        except IntegrityError:
            # a customer erased after the rows were checked, before they were written: check again
            if attempt >= ERASED_MEANWHILE_RETRIES:
                raise


def _range_rows_replace(*, model_version: ModelVersion, low: int, high: int | None, rows: list[tuple]) -> int:
    """In one transaction, the version's rows of customers ``[low, high]`` replaced by ``rows``, less
    those of customers erased since the scoring read them: their rows would break the foreign key and
    fail the chunk, and with it the whole version."""
    with transaction.atomic():
        stale = Recommendation.objects.filter(model_version=model_version, customer_id__gte=low)
        present = Customer.objects.filter(pk__gte=low)
        if high is not None:
            stale = stale.filter(customer_id__lte=high)
            present = present.filter(pk__lte=high)
        stale.delete()
        present_ids = set(present.values_list("pk", flat=True))
        return bulk_insert_rows(
            Recommendation, RECOMMENDATION_FIELDS, (row for row in rows if row[1] in present_ids)
        )


def model_version_score_finish(
    *, model_version: ModelVersion, scored_customers: int, seconds: float | None = None
) -> ModelVersion:
    """Write the version's neighbours and popular lists (delete-then-insert, one transaction) and mark it
    ready: the last step of a scoring, after every range is written."""
    from recommender import ml

    model = trained_model_for(model_version)
    existing = set(Product.objects.values_list("id", flat=True))
    neighbours = ml.similar_products(model, top_n=NEIGHBOURS_PER_PRODUCT)
    neighbours = neighbours[
        neighbours["product_id"].isin(existing) & neighbours["neighbour_id"].isin(existing)
    ]
    popular = ml.popular_products(model, top_n=POPULAR_PER_COUNTRY)
    popular = popular[popular["product_id"].isin(existing)]
    with transaction.atomic():
        ProductNeighbour.objects.filter(model_version=model_version).delete()
        PopularProduct.objects.filter(model_version=model_version).delete()
        bulk_insert_rows(
            ProductNeighbour,
            ("model_version_id", "product_id", "neighbour_id", "rank", "score"),
            (
                (model_version.pk, int(p), int(n), int(r), float(s))
                for p, n, r, s in neighbours[["product_id", "neighbour_id", "rank", "score"]].itertuples(
                    index=False, name=None
                )
            ),
        )
        bulk_insert_rows(
            PopularProduct,
            ("model_version_id", "country", "product_id", "rank", "score"),
            (
                (model_version.pk, str(c or ""), int(p), int(r), float(s))
                for c, p, r, s in popular[["country", "product_id", "rank", "score"]].itertuples(
                    index=False, name=None
                )
            ),
        )
        model_version = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        model_version.status = ModelVersion.Status.READY
        model_version.scored_at = timezone.now()
        written = Recommendation.objects.filter(model_version=model_version).count()
        model_version.timings = {
            **model_version.timings,
            **({"score_seconds": round(seconds, 2)} if seconds is not None else {}),
            "scored_customers": int(scored_customers),
            "recommendation_rows": written,
        }
        model_version.save(update_fields=["status", "scored_at", "timings"])
    return model_version


def model_version_score(*, model_version: ModelVersion, progress: JobReporter | None = None) -> ModelVersion:
    """Every range in this process, then the finish (``train_recommender --inline``, eager runs); a
    worker runs the ranges as chunk tasks instead (``recommender.tasks.score_model_version_task``).
    Safe to rerun: a rerun after a crash deletes the version's partial rows and writes them again."""
    progress = progress or JobReporter(None)
    started = time.monotonic()
    try:
        customer_ids = model_version_score_start(model_version=model_version)
        ranges = scoring_ranges(customer_ids, settings.RECOMMENDER_SCORE_CHUNK_SIZE)
        written = 0
        for index, (low, high) in enumerate(ranges):
            written += model_version_score_range(
                model_version=model_version, low=low, high=high, customer_ids=customer_ids
            )
            progress(0.9 * (index + 1) / len(ranges), f"Scored {index + 1} of {len(ranges)} customer ranges")
        version = model_version_score_finish(
            model_version=model_version,
            scored_customers=len(customer_ids),
            seconds=time.monotonic() - started,
        )
        progress(1.0, f"Wrote {written:,} recommendations")
        return version
    except BaseException as exc:
        ModelVersion.objects.filter(pk=model_version.pk).update(
            status=ModelVersion.Status.FAILED, error=f"Scoring failed: {type(exc).__name__}: {exc}"
        )
        raise


def purchase_probabilities(
    *, customer_ids: list[int], product_ids: list[int]
) -> tuple[np.ndarray, int | None]:
    """P(customer buys product in the next period) from the served version, customers x products.

    Returns ``(matrix, model_version_id)``. Without a served version this raises ``LookupError``, and
    the caller chooses its own fallback.
    """
    from recommender import ml

    version = ModelVersion.objects.active().first()
    if version is None:
        raise LookupError("No model version is served yet.")
    model = trained_model_for(version)
    matrix = ml.score_pairs(
        model,
        customer_ids=np.asarray(customer_ids, dtype="int64"),
        product_ids=np.asarray(product_ids, dtype="int64"),
    )
    return np.asarray(matrix, dtype="float64"), version.pk

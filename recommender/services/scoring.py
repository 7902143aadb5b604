"""Scoring: a trained version's top-N per customer, written as rows, then served by activation."""

import functools
import logging
import time

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.models import OrderLine, Product
from crm.services.bulk import bulk_insert_rows
from crm.services.jobs import JobReporter
from recommender.models import ModelVersion, PopularProduct, ProductNeighbour, Recommendation
from recommender.reasons import ReasonRenderer
from recommender.services import frames

logger = logging.getLogger(__name__)

RECOMMENDATION_FIELDS = ("model_version_id", "customer_id", "product_id", "rank", "score", "reason")
NEIGHBOURS_PER_PRODUCT = 12
POPULAR_PER_COUNTRY = 50


@functools.lru_cache(maxsize=2)
def _load_artifact(path: str, version_id: int):
    from recommender import ml

    return ml.TrainedRecommender.load(path)


def trained_model_for(model_version: ModelVersion):
    """The version's trained model, loaded once per worker process (never in a web request)."""
    if not model_version.artifact_path:
        raise ValueError(f"Model version {model_version.pk} has no artifact.")
    return _load_artifact(model_version.artifact_path, model_version.pk)


def scored_customer_ids() -> np.ndarray:
    """Customers with at least one catalogue purchase: the ones a model can personalise for."""
    ids = (
        OrderLine.objects.filter(product__isnull=False, order__customer__isnull=False)
        .order_by()
        .values_list("order__customer_id", flat=True)
        .distinct()
    )
    return np.sort(np.fromiter(ids, dtype="int64"))


def model_version_score(*, model_version: ModelVersion, progress: JobReporter | None = None) -> ModelVersion:
    """Write the version's recommendations, neighbours and popular lists. Safe to rerun: a rerun
    after a crash deletes the version's partial rows and writes them again. Serving is unchanged
    until ``model_version_activate``."""
    from recommender import ml

    progress = progress or JobReporter(None)
    started = time.monotonic()
    ModelVersion.objects.filter(pk=model_version.pk).update(
        status=ModelVersion.Status.SCORING, scored_at=None
    )
    try:
        model = trained_model_for(model_version)
        for table in (Recommendation, ProductNeighbour, PopularProduct):
            table.objects.filter(model_version=model_version).delete()
        available = frames.available_product_ids()
        customer_ids = scored_customer_ids()
        chunk_size = max(1, settings.RECOMMENDER_SCORE_CHUNK_SIZE)
        renderer = ReasonRenderer()
        written = 0
        chunks = max(1, int(np.ceil(len(customer_ids) / chunk_size)))
        for index in range(chunks):
            chunk = customer_ids[index * chunk_size : (index + 1) * chunk_size]
            if len(chunk) == 0:
                break
            recommended = ml.recommend(
                model,
                customer_ids=chunk,
                top_n=settings.RECOMMENDER_TOP_N,
                available_product_ids=available,
                allow_bought=settings.RECOMMENDER_ALLOW_BOUGHT,
                max_per_category=settings.RECOMMENDER_MAX_PER_CATEGORY,
                min_new_items=settings.RECOMMENDER_MIN_NEW_ITEMS,
            )
            renderer.prefetch(recommended["reason"].unique())
            rows = (
                (
                    model_version.pk,
                    int(customer),
                    int(product),
                    int(rank),
                    float(score),
                    renderer.render(reason),
                )
                for customer, product, rank, score, reason in recommended[
                    ["customer_id", "product_id", "rank", "score", "reason"]
                ].itertuples(index=False, name=None)
            )
            with transaction.atomic():
                written += bulk_insert_rows(Recommendation, RECOMMENDATION_FIELDS, rows)
            progress(
                0.9 * (index + 1) / chunks,
                f"Scored {min((index + 1) * chunk_size, len(customer_ids)):,} "
                f"of {len(customer_ids):,} customers",
            )

        existing = set(Product.objects.values_list("id", flat=True))
        neighbours = ml.similar_products(model, top_n=NEIGHBOURS_PER_PRODUCT)
        neighbours = neighbours[
            neighbours["product_id"].isin(existing) & neighbours["neighbour_id"].isin(existing)
        ]
        popular = ml.popular_products(model, top_n=POPULAR_PER_COUNTRY)
        popular = popular[popular["product_id"].isin(existing)]
        with transaction.atomic():
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
        model_version.refresh_from_db()
        model_version.status = ModelVersion.Status.READY
        model_version.scored_at = timezone.now()
        seconds = time.monotonic() - started
        model_version.timings = {
            **model_version.timings,
            "score_seconds": round(seconds, 2),
            "scored_customers": int(len(customer_ids)),
            "recommendation_rows": written,
        }
        model_version.save(update_fields=["status", "scored_at", "timings"])
        progress(1.0, f"Wrote {written:,} recommendations")
        return model_version
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

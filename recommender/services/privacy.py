"""What the recommender does for customers' data rights. Registered with crm's privacy hooks when
Django starts (``recommender.apps``), because crm never imports the recommender.

- Erasure: stored recommendations go with the customer row (a database cascade); every model artifact
  on disk that holds statistics of the customer is rewritten at once without them
  (``ml.forget.artifact_forget_customers``), and the served model keeps working. A training that read
  its data before the erasure drops them when it saves (``artifacts_forget_missing_customers``).
- Retention: the artifact files of old model versions are deleted with their stored rows; folders under
  MODEL_ARTIFACT_ROOT that no model version points to are deleted.
- Access: the data export of a customer lists their current recommendations with reasons and the
  explanation of each score.
"""

import datetime as dt
import logging
import shutil
from pathlib import Path

import numpy as np
from django.conf import settings

from crm.models import Customer
from recommender.ml.forget import HISTORY_FILE, artifact_customer_ids, artifact_forget_customers
from recommender.models import ModelVersion, Recommendation

logger = logging.getLogger(__name__)

# Artifact folders that no model version points to are deleted only after this long, so that a
# training which has written its folder but not yet recorded it is never touched.
ORPHAN_ARTIFACT_GRACE = dt.timedelta(days=1)
# Customer ids per query when checking which of an artifact's customers still exist.
_IDS_PER_QUERY = 10_000


def artifact_directories() -> list[Path]:
    """Every saved artifact under MODEL_ARTIFACT_ROOT (a folder with a History in it)."""
    root = Path(settings.MODEL_ARTIFACT_ROOT)
    if not root.is_dir():
        return []
    return sorted(path.parent for path in root.glob(f"*/{HISTORY_FILE}"))


def artifacts_forget_customers(customer_ids: list[int]) -> dict[str, int]:
    """Erasure hook: rewrite every artifact that holds statistics of these customers."""
    recommendations = Recommendation.objects.filter(customer_id__in=customer_ids).count()
    rewritten = 0
    for directory in artifact_directories():
        if artifact_forget_customers(directory, np.asarray(customer_ids, dtype=np.int64)):
            rewritten += 1
    return {"recommendations": recommendations, "artifacts_rewritten": rewritten}


def artifacts_forget_missing_customers(directory: Path) -> int:
    """Drop from a freshly saved artifact the customers erased while it was being trained."""
    held = artifact_customer_ids(directory)
    # Asked in slices: one IN list of a large shop's customers passes PostgreSQL's 65,535 parameters.
    known = np.concatenate(
        [np.zeros(0, np.int64)]
        + [
            np.fromiter(
                Customer.objects.filter(pk__in=held[start : start + _IDS_PER_QUERY].tolist()).values_list(
                    "pk", flat=True
                ),
                np.int64,
            )
            for start in range(0, len(held), _IDS_PER_QUERY)
        ]
    )
    missing = np.setdiff1d(held, known)
    if len(missing):
        logger.info("Forgetting %d customers erased during training from %s", len(missing), directory)
        artifact_forget_customers(directory, missing)
    return len(missing)


def model_version_files_delete(*, version_ids: list[int]) -> int:
    """Delete the artifact folders of these versions and forget where they were."""
    deleted = 0
    for version in ModelVersion.objects.filter(pk__in=version_ids).exclude(artifact_path=""):
        path = Path(version.artifact_path)
        if path.is_dir():
            shutil.rmtree(path)
            deleted += 1
    ModelVersion.objects.filter(pk__in=version_ids).update(artifact_path="")
    return deleted


def artifacts_retention(now: dt.datetime) -> dict[str, int]:
    """Retention hook: files of retired or failed versions whose rows are gone, and orphan folders."""
    stale = list(
        ModelVersion.objects.filter(
            status__in=[ModelVersion.Status.RETIRED, ModelVersion.Status.FAILED], scored_at__isnull=True
        )
        .exclude(artifact_path="")
        .values_list("pk", flat=True)
    )
    deleted = model_version_files_delete(version_ids=stale)
    root = Path(settings.MODEL_ARTIFACT_ROOT)
    known = {
        Path(path).resolve()
        for path in ModelVersion.objects.exclude(artifact_path="").values_list("artifact_path", flat=True)
    }
    orphans = 0
    if root.is_dir():
        for folder in root.iterdir():
            if not folder.is_dir() or folder.resolve() in known:
                continue
            modified = dt.datetime.fromtimestamp(folder.stat().st_mtime, tz=dt.UTC)
            if now - modified > ORPHAN_ARTIFACT_GRACE:
                shutil.rmtree(folder)
                orphans += 1
    return {"version_files": deleted, "orphan_folders": orphans}


def recommendations_for_data_export(customer: Customer) -> list[dict]:
    """Data export section: the customer's current (served) recommendations with their reasons and, where
    the version scored them with one, the explanation of the score (what in their history and the product
    moved it, as staff see it): the logic of the profiling, not only its outcome."""
    from recommender.reasons import ReasonRenderer
    from recommender.selectors_explain import explanation_expanded

    rows = list(
        Recommendation.objects.filter(customer=customer, model_version__status=ModelVersion.Status.ACTIVE)
        .order_by("rank")
        .values(
            "product__external_id",
            "product__name",
            "rank",
            "score",
            "reason",
            "model_version_id",
            "explanation",
        )
    )
    renderer = ReasonRenderer()
    renderer.prefetch(row["reason"] for row in rows)
    return [
        {
            "product_id": row["product__external_id"],
            "product_name": row["product__name"],
            "rank": row["rank"],
            "score": round(float(row["score"]), 6),
            "reason": renderer.render(row["reason"]),
            "model_version": row["model_version_id"],
            "explanation": explanation_expanded(row["explanation"]),
        }
        for row in rows
    ]

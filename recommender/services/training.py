"""Training a model version: frames from the database -> ``ml.train_recommender`` -> artifact + metrics."""

import datetime as dt
import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.jobs import JobReporter, job_create
from core.models import Job
from recommender.models import ModelVersion
from recommender.services import frames
from recommender.services.privacy import artifacts_forget_missing_customers

logger = logging.getLogger(__name__)

# Relative margin by which a new version may trail the served one on validation NDCG@10 and still
# be served: equal quality on fresher data is worth serving, a real regression is not.
ACTIVE_VERSION_TOLERANCE = 0.0


class TrainingError(RuntimeError):
    pass


@transaction.atomic
def training_version_create(
    *, user=None, activate: bool = True, force: bool = False, config: dict | None = None
) -> ModelVersion:
    """A queued training run: a Job the portal shows and a ModelVersion that records the outcome
    (``recommender.tasks.training_enqueue`` sends it to a worker).

    ``force`` serves the new version even if it fails the quality gate (an operator's decision, kept
    in the version's params); ``config`` overrides training settings for this run only.
    """
    params = {"activate": activate, "force": force, "config": config or {}}
    job = job_create(kind=Job.Kind.TRAIN, user=user, params=params)
    version = ModelVersion.objects.create(job=job, params=params)
    job.params = {**params, "model_version_id": version.pk}
    job.save(update_fields=["params"])
    return version


def artifact_directory(version: ModelVersion) -> Path:
    return Path(settings.MODEL_ARTIFACT_ROOT) / f"v{version.pk:05d}"


def model_version_train(*, model_version: ModelVersion, progress: JobReporter | None = None) -> ModelVersion:
    """Train ``model_version`` and record its metrics; on any error mark it failed and re-raise.

    The served version is never touched here: only activation switches what is served.
    """
    from recommender import ml

    progress = progress or JobReporter(None)
    started = time.monotonic()
    ModelVersion.objects.filter(pk=model_version.pk).update(status=ModelVersion.Status.TRAINING, error="")
    try:
        progress(0.0, "Reading order history")
        order_lines = frames.order_line_frame()
        if order_lines.empty:
            raise TrainingError("There are no order lines of known customers to train on.")
        products = frames.product_frame()
        customers = frames.customer_frame()
        events = frames.event_frame()
        read_seconds = time.monotonic() - started
        progress(0.05, f"Training on {len(order_lines):,} order lines")
        config = ml.config_from_dict(
            {**settings.RECOMMENDER_TRAIN_CONFIG, **model_version.params.get("config", {})}
        )
        trained = ml.train_recommender(
            config=config,
            order_lines=order_lines,
            products=products,
            customers=customers,
            events=events,
            progress=progress.part(0.05, 0.95),
            # the held-out run chooses the lists' weight of never-bought products (used when
            # RECOMMENDER_NEW_ITEM_WEIGHT is "auto"); lists of never-bought products only have none
            served_min_new_items=settings.RECOMMENDER_MIN_NEW_ITEMS
            if settings.RECOMMENDER_ALLOW_BOUGHT
            else None,
        )
        directory = artifact_directory(model_version)
        trained.save(directory)
        artifacts_forget_missing_customers(directory)
        model_version.refresh_from_db()
        model_version.status = ModelVersion.Status.READY
        model_version.params = {**model_version.params, **trained.params}
        model_version.metrics = trained.metrics
        model_version.counts = trained.counts
        model_version.timings = {**trained.timings, "read_seconds": round(read_seconds, 2)}
        model_version.timings["total_train_seconds"] = round(time.monotonic() - started, 2)
        model_version.artifact_path = str(directory)
        model_version.data_start = _aware(order_lines["ordered_at"].min().to_pydatetime())
        model_version.data_end = _aware(order_lines["ordered_at"].max().to_pydatetime())
        if trained.metrics.get("cutoff"):
            model_version.validation_cutoff = _aware(
                dt.datetime.fromisoformat(str(trained.metrics["cutoff"]))
            )
        model_version.trained_at = timezone.now()
        model_version.save()
        progress(1.0, "Trained")
        return model_version
    except BaseException as exc:
        ModelVersion.objects.filter(pk=model_version.pk).update(
            status=ModelVersion.Status.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise


def quality_gate(*, model_version: ModelVersion) -> tuple[bool, str]:
    """Serve a new version only if it beats the best baseline and is not worse than the served one."""
    metrics = model_version.metrics or {}
    mlp = (metrics.get("mlp") or {}).get("ndcg@10")
    if mlp is None:
        return False, "The version has no validation NDCG@10."
    baselines = {
        name: values.get("ndcg@10")
        for name, values in metrics.items()
        if name != "mlp" and isinstance(values, dict) and values.get("ndcg@10") is not None
    }
    if baselines:
        best_name, best = max(baselines.items(), key=lambda item: item[1])
        if mlp <= best:
            return False, f"NDCG@10 {mlp:.4f} does not beat the best baseline ({best_name}, {best:.4f})."
    active = ModelVersion.objects.active().exclude(pk=model_version.pk).first()
    if active is not None and active.ndcg is not None and mlp < active.ndcg * (1 - ACTIVE_VERSION_TOLERANCE):
        return False, f"NDCG@10 {mlp:.4f} is worse than the served version {active.pk} ({active.ndcg:.4f})."
    return True, f"NDCG@10 {mlp:.4f} passes the quality gate."


def _aware(value: dt.datetime) -> dt.datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)

"""Switching the served model version: one transaction, so no reader ever sees two versions."""

from django.db import transaction
from django.utils import timezone

from crm.models import AuditEvent
from crm.services.privacy import audit_record
from recommender.models import ModelVersion, PopularProduct, ProductNeighbour, Recommendation
from recommender.services.privacy import model_version_files_delete

# Versions whose recommendation rows are kept (the served one and the ones before it, for roll back).
KEEP_SCORED_VERSIONS = 3


class ActivationError(ValueError):
    pass


def model_version_activate(*, model_version: ModelVersion, actor=None, via: str = "") -> ModelVersion:
    """Serve ``model_version``; the version served before it is retired (and can be re-activated).

    The switch is recorded in the audit trail with ``actor`` (a user; None for a command or the
    automatic activation after training, named by ``via``).
    """
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        if version.status == ModelVersion.Status.ACTIVE:
            return version
        if version.scored_at is None or version.status not in (
            ModelVersion.Status.READY,
            ModelVersion.Status.RETIRED,
            ModelVersion.Status.REJECTED,
            ModelVersion.Status.SCORING,
        ):
            raise ActivationError(
                f"Model version {version.pk} cannot be activated: it is {version.status} and "
                f"{'has' if version.scored_at else 'has not'} been scored."
            )
        if not Recommendation.objects.filter(model_version=version).exists():
            raise ActivationError(f"Model version {version.pk} has no stored recommendations to serve.")
        list(ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE))
        ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).update(
            status=ModelVersion.Status.RETIRED
        )
        version.status = ModelVersion.Status.ACTIVE
        version.activated_at = timezone.now()
        version.save(update_fields=["status", "activated_at"])
        audit_record(
            action=AuditEvent.Action.MODEL_VERSION_ACTIVATED,
            actor=actor,
            subject=f"model version {version.pk}",
            via=via or ("portal" if actor is not None else "worker"),
            detail={"model_version_id": version.pk, "ndcg@10": version.ndcg},
        )
    model_version_prune_rows()
    return version


def model_version_prune_rows() -> int:
    """Drop the stored rows of old versions beyond the newest few that were scored (bounded storage)."""
    scored = list(
        ModelVersion.objects.filter(scored_at__isnull=False)
        .exclude(status=ModelVersion.Status.ACTIVE)
        .order_by("-scored_at")
        .values_list("pk", flat=True)
    )
    stale = scored[KEEP_SCORED_VERSIONS - 1 :]
    if not stale:
        return 0
    deleted = 0
    for model in (Recommendation, ProductNeighbour, PopularProduct):
        deleted += model.objects.filter(model_version_id__in=stale).delete()[0]
    ModelVersion.objects.filter(pk__in=stale).update(scored_at=None)
    # Their artifacts go with their rows: they hold per-customer statistics that nothing serves any more.
    model_version_files_delete(version_ids=stale)
    return deleted

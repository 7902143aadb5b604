"""The weight of never-bought products in the served lists, set by staff from the Models room.

Under RECOMMENDER_NEW_ITEM_WEIGHT "auto" each version's lists follow the weight its training chose on
its held-out month (``recommender.ml.discovery``). Staff who read that month's measurements weight by
weight may prefer another: the served version is scored again at that weight, as a new version sharing
its trained artifact, and served when the scoring is done. The hourly rescorings keep the weight; a new
training measures and chooses its own.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import Job
from crm.models import AuditEvent
from crm.services.audit import audit_record
from recommender.models import ModelVersion
from recommender.selectors import NEW_ITEM_WEIGHT_AUTO
from recommender.services.rescoring import rescore_version_create


class NewItemWeightError(ValueError):
    pass


def measured_new_item_weights(model_version: ModelVersion) -> list[float]:
    """The weights its training measured its lists at on the held-out month, in order."""
    by_weight = model_version.new_item_weight_choice.get("by_weight") or {}
    return sorted(float(weight) for weight in by_weight)


def new_item_weight_version_create(
    *, model_version: ModelVersion, weight: float, actor=None, via: str = "portal"
) -> ModelVersion:
    """A new version of the served ``model_version``'s artifact whose lists will follow ``weight``, one
    of the weights its training measured (``recommender.tasks.new_item_weight_enqueue`` scores and
    serves it). The weight its training chose clears a weight set before. Recorded in the audit trail.

    Raises ``NewItemWeightError`` naming what stands in the way: a number in RECOMMENDER_NEW_ITEM_WEIGHT
    fixes every version's weight; only the served version's weight is set; a weight its training did not
    measure; the weight its lists follow already; a training or scoring still running.
    """
    fixed = settings.RECOMMENDER_NEW_ITEM_WEIGHT
    if fixed != NEW_ITEM_WEIGHT_AUTO:
        raise NewItemWeightError(
            f"RECOMMENDER_NEW_ITEM_WEIGHT fixes every version's weight at x{float(fixed):g}; "
            'set it to "auto" to choose a weight for the served version here.'
        )
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        if version.status != ModelVersion.Status.ACTIVE:
            raise NewItemWeightError(
                f"Only the served version's weight can be set; v{version.pk} is "
                f"{version.get_status_display().lower()}."
            )
        measured = measured_new_item_weights(version)
        if not measured:
            raise NewItemWeightError(
                f"v{version.pk}'s training measured no weights (it was trained before versions recorded "
                "them): train a new version first."
            )
        if weight not in measured:
            raise NewItemWeightError(
                f"v{version.pk}'s training did not measure x{weight:g}; choose one of "
                + ", ".join(f"x{value:g}" for value in measured)
                + "."
            )
        if weight == version.own_new_item_weight:
            raise NewItemWeightError(f"v{version.pk}'s lists already follow x{weight:g}.")
        running = (
            Job.objects.unfinished().top_level().filter(kind__in=[Job.Kind.TRAIN, Job.Kind.SCORE]).first()
        )
        if running is not None:
            raise NewItemWeightError(
                f"A {running.get_kind_display().lower()} job is running (job {running.pk}): set the weight "
                "once it is done."
            )
        staff_set = (
            None
            if weight == version.chosen_new_item_weight
            else {
                "weight": weight,
                "by": actor.get_username() if actor is not None else "",
                "at": timezone.now().isoformat(),
            }
        )
        rescored = rescore_version_create(
            model_version=version, user=actor, params={ModelVersion.NEW_ITEM_WEIGHT_SET_PARAM: staff_set}
        )
        audit_record(
            action=AuditEvent.Action.NEW_ITEM_WEIGHT_SET,
            actor=actor,
            subject=f"model version {version.pk}",
            via=via,
            detail={
                "model_version_id": version.pk,
                "new_model_version_id": rescored.pk,
                "new_item_weight": weight,
                "was": version.own_new_item_weight,
                "chosen_by_training": version.chosen_new_item_weight,
            },
        )
    return rescored

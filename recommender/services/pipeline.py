"""The pipeline of a model version: train -> quality gate -> score -> switch what is served.

One action for every caller: the worker's tasks (training and scoring are two tasks, so a scoring run can
be retried or rescheduled alone), ``train_recommender --inline`` (both steps in one process) and the
hourly rescore (scoring and switch only, on an artifact trained before).
"""

from dataclasses import dataclass

from django.db import transaction

from core.jobs import JobReporter
from recommender.models import ModelVersion
from recommender.services.activation import model_version_activate
from recommender.services.scoring import model_version_score
from recommender.services.training import ACTIVE_VERSION_TOLERANCE, model_version_train, quality_gate


@dataclass(frozen=True)
class GateOutcome:
    model_version: ModelVersion
    go_on: bool  # score the version (and serve it when its params ask for that)
    verdict: str


def model_version_train_and_gate(*, model_version: ModelVersion, progress: JobReporter) -> GateOutcome:
    """Train, then apply the quality gate. A version that fails the gate is marked rejected, unless an
    operator forced it (``params["force"]``), which is recorded in the verdict. Training errors raise,
    with the version marked failed."""
    version = model_version_train(model_version=model_version, progress=progress)
    passed, verdict = quality_gate(model_version=version)
    if passed:
        return GateOutcome(version, True, verdict)
    if version.params.get("force"):
        return GateOutcome(version, True, f"Served by request although: {verdict}")
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.REJECTED, error=verdict)
    version.refresh_from_db()
    return GateOutcome(version, False, verdict)


def model_version_switch(*, model_version: ModelVersion) -> tuple[ModelVersion, str]:
    """Serve ``model_version`` if it is still not worse than what is served at this moment (another
    training may have been served since this one passed the gate), and if the served version was not
    trained on newer data. Forced versions and rescorings of the served artifact skip the checks.
    A version that lost is marked rejected with the reason (its rows stay: staff can still serve it)."""
    with transaction.atomic():
        served = list(ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE))
        version = ModelVersion.objects.get(pk=model_version.pk)
        if version.params.get("force") or version.params.get("rescore_of"):
            return model_version_activate(model_version=version), "Served"
        verdict = ""
        for other in served:
            if other.pk == version.pk:
                continue
            if other.data_end and version.data_end and other.data_end > version.data_end:
                verdict = f"The served version {other.pk} was trained on newer data."
            elif (
                other.ndcg is not None
                and version.ndcg is not None
                and version.ndcg < other.ndcg * (1 - ACTIVE_VERSION_TOLERANCE)
            ):
                verdict = (
                    f"NDCG@10 {version.ndcg:.4f} is worse than the version served now "
                    f"({other.pk}, {other.ndcg:.4f})."
                )
        if verdict:
            ModelVersion.objects.filter(pk=version.pk).update(
                status=ModelVersion.Status.REJECTED, error=f"Not served at the switch: {verdict}"
            )
            version.refresh_from_db()
            return version, verdict
        return model_version_activate(model_version=version), "Served"


def model_version_score_and_switch(
    *, model_version: ModelVersion, activate: bool, progress: JobReporter
) -> ModelVersion:
    """Write the version's rows, then (when asked) serve it in one atomic switch."""
    version = model_version_score(model_version=model_version, progress=progress)
    if activate:
        version, _verdict = model_version_switch(model_version=version)
    return version


def model_version_pipeline_run(*, model_version: ModelVersion, progress: JobReporter) -> GateOutcome:
    """Every step in this process (``train_recommender --inline``)."""
    outcome = model_version_train_and_gate(model_version=model_version, progress=progress.part(0.0, 0.7))
    if not outcome.go_on:
        return outcome
    version = model_version_score_and_switch(
        model_version=outcome.model_version,
        activate=outcome.model_version.params.get("activate", True),
        progress=progress.part(0.7, 1.0),
    )
    return GateOutcome(version, True, outcome.verdict)

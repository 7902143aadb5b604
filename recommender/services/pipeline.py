"""The pipeline of a model version: train -> quality gate -> score -> switch what is served.

One action for every caller: the worker's tasks (training and scoring are two tasks, so a scoring run can
be retried or rescheduled alone), ``train_recommender --inline`` (both steps in one process) and the
hourly rescore (scoring and switch only, on an artifact trained before).
"""

from dataclasses import dataclass

from core.jobs import JobReporter
from recommender.models import ModelVersion
from recommender.services.activation import model_version_activate
from recommender.services.scoring import model_version_score
from recommender.services.training import model_version_train, quality_gate


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


def model_version_score_and_switch(
    *, model_version: ModelVersion, activate: bool, progress: JobReporter
) -> ModelVersion:
    """Write the version's rows, then (when asked) serve it in one atomic switch."""
    version = model_version_score(model_version=model_version, progress=progress)
    if activate:
        version = model_version_activate(model_version=version)
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

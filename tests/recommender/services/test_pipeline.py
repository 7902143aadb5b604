"""The switch re-checks what is served at that moment: of two overlapping trainings, the one that finishes
last is served only if it is not worse and not trained on older data than the one served by then."""

import datetime as dt

import pytest
from django.utils import timezone

from recommender.models import ModelVersion
from recommender.services.pipeline import model_version_switch
from tests.factories import ModelVersionFactory, RecommendationFactory

pytestmark = pytest.mark.django_db

DAY = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def scored(ndcg: float, data_end: dt.datetime, **params) -> ModelVersion:
    version = ModelVersionFactory(
        status=ModelVersion.Status.READY,
        metrics={"mlp": {"ndcg@10": ndcg}},
        data_end=data_end,
        scored_at=timezone.now(),
        params=params,
    )
    RecommendationFactory(model_version=version)
    return version


@pytest.fixture
def served() -> ModelVersion:
    version = scored(0.40, DAY)
    version, verdict = model_version_switch(model_version=version)
    assert version.status == ModelVersion.Status.ACTIVE, verdict
    return version


def test_a_worse_version_finishing_last_is_not_served(served):
    late = scored(0.30, DAY + dt.timedelta(days=1))

    version, verdict = model_version_switch(model_version=late)

    assert version.status == ModelVersion.Status.REJECTED and "worse than the version served now" in verdict
    assert ModelVersion.objects.active().get() == served


def test_an_older_version_finishing_last_is_not_served_even_if_better(served):
    older = scored(0.50, DAY - dt.timedelta(days=1))

    version, verdict = model_version_switch(model_version=older)

    assert version.status == ModelVersion.Status.REJECTED and "newer data" in verdict
    assert ModelVersion.objects.active().get() == served


def test_a_newer_version_not_worse_is_served_and_a_forced_one_always(served):
    newer = scored(0.41, DAY + dt.timedelta(days=1))
    assert model_version_switch(model_version=newer)[0].status == ModelVersion.Status.ACTIVE

    forced = scored(0.10, DAY - dt.timedelta(days=9), force=True)
    assert model_version_switch(model_version=forced)[0].status == ModelVersion.Status.ACTIVE
    assert ModelVersion.objects.active().get() == forced

"""Staff set the served lists' weight of never-bought products (``recommender.services.discovery``)."""

import pytest

from core.models import Job
from crm.models import AuditEvent
from recommender.models import ModelVersion
from recommender.selectors import new_item_weight_for
from recommender.services.discovery import NewItemWeightError, new_item_weight_version_create
from tests.factories import JobFactory, ModelVersionFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def _served(**params) -> ModelVersion:
    """A served version whose training measured its lists at x1, x2 and x2.4 and chose x2.4."""
    choice = {
        "by_weight": {
            "1": {"ndcg@10": 0.33, "new_ndcg@10": 0.02, "bar_reached": None},
            "2": {"ndcg@10": 0.32, "new_ndcg@10": 0.04, "bar_reached": "popular_served_list"},
            "2.4": {"ndcg@10": 0.31, "new_ndcg@10": 0.05, "bar_reached": "popular_both"},
        },
        "new_item_weight": 2.4,
    }
    return ModelVersionFactory(
        status=ModelVersion.Status.ACTIVE,
        artifact_path="/artifacts/v1",
        params={
            ModelVersion.NEW_ITEM_WEIGHT_PARAM: 2.4,
            ModelVersion.NEW_ITEM_WEIGHT_CHOICE_PARAM: choice,
            "config": {"epochs": 2},
            **params,
        },
    )


def test_a_weight_set_makes_a_version_of_the_same_artifact_to_score_at_it_and_records_who(settings):
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    served = _served()
    staff = StaffUserFactory(username="ada")

    rescored = new_item_weight_version_create(model_version=served, weight=2.0, actor=staff)

    assert rescored.pk != served.pk
    assert rescored.status == ModelVersion.Status.READY
    assert rescored.artifact_path == served.artifact_path
    assert rescored.params["rescore_of"] == served.pk
    assert rescored.params["config"] == {"epochs": 2}
    assert rescored.new_item_weight_set["weight"] == 2.0
    assert rescored.new_item_weight_set["by"] == "ada"
    # its training's choice and measurements are kept beside the weight set
    assert rescored.chosen_new_item_weight == 2.4
    assert rescored.new_item_weight_choice == served.new_item_weight_choice
    # what its scoring will order the lists by, read from the object or by id
    assert new_item_weight_for(model_version=rescored) == 2.0
    assert new_item_weight_for(model_version_id=rescored.pk) == 2.0
    assert new_item_weight_for(model_version_id=served.pk) == 2.4
    assert rescored.job.kind == Job.Kind.SCORE and rescored.job.created_by == staff
    event = AuditEvent.objects.get(action=AuditEvent.Action.NEW_ITEM_WEIGHT_SET)
    assert event.actor == staff and event.via == "portal"
    assert event.detail == {
        "model_version_id": served.pk,
        "new_model_version_id": rescored.pk,
        "new_item_weight": 2.0,
        "was": 2.4,
        "chosen_by_training": 2.4,
    }
    # the served version serves on, untouched, until the new one is scored and switched in
    served.refresh_from_db()
    assert served.status == ModelVersion.Status.ACTIVE
    assert ModelVersion.NEW_ITEM_WEIGHT_SET_PARAM not in served.params


def test_choosing_the_weight_its_training_chose_clears_the_weight_set(settings):
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    served = _served(new_item_weight_set={"weight": 1.0, "by": "ada", "at": "2026-12-05T10:00:00+00:00"})
    assert new_item_weight_for(model_version=served) == 1.0

    rescored = new_item_weight_version_create(model_version=served, weight=2.4)

    assert ModelVersion.NEW_ITEM_WEIGHT_SET_PARAM not in rescored.params
    assert rescored.own_new_item_weight == 2.4
    assert new_item_weight_for(model_version_id=rescored.pk) == 2.4


def test_a_number_in_the_environment_still_fixes_every_versions_weight(settings):
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = 1.6
    served = _served(new_item_weight_set={"weight": 1.0, "by": "ada", "at": "2026-12-05T10:00:00+00:00"})

    assert new_item_weight_for(model_version=served) == 1.6
    assert new_item_weight_for(model_version_id=served.pk) == 1.6
    with pytest.raises(NewItemWeightError, match=r'fixes every version\'s weight at x1.6; set it to "auto"'):
        new_item_weight_version_create(model_version=served, weight=2.0)
    assert ModelVersion.objects.count() == 1


@pytest.mark.parametrize(
    "weight, message",
    [
        (1.4, r"did not measure x1.4; choose one of x1, x2, x2.4\."),
        (2.4, r"lists already follow x2.4\."),
    ],
)
def test_a_weight_not_measured_or_already_followed_is_refused_with_the_reason(settings, weight, message):
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    served = _served()

    with pytest.raises(NewItemWeightError, match=message):
        new_item_weight_version_create(model_version=served, weight=weight)

    assert ModelVersion.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_only_the_served_version_and_one_that_measured_weights_can_be_set(settings):
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    retired = _served()
    retired.status = ModelVersion.Status.RETIRED
    retired.save()
    with pytest.raises(
        NewItemWeightError, match=rf"Only the served version's weight .* v{retired.pk} is retired"
    ):
        new_item_weight_version_create(model_version=retired, weight=2.0)

    older = ModelVersionFactory(status=ModelVersion.Status.ACTIVE, params={"new_item_weight_chosen": 2.2})
    with pytest.raises(NewItemWeightError, match="measured no weights .* train a new version first"):
        new_item_weight_version_create(model_version=older, weight=2.0)


def test_a_running_training_or_scoring_holds_the_weight_back(settings):
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    served = _served()
    job = JobFactory(kind=Job.Kind.TRAIN, status=Job.Status.RUNNING)

    with pytest.raises(NewItemWeightError, match=rf"A train recommender job is running \(job {job.pk}\)"):
        new_item_weight_version_create(model_version=served, weight=2.0)

    job.status = Job.Status.SUCCEEDED
    job.save()
    assert new_item_weight_version_create(model_version=served, weight=2.0).own_new_item_weight == 2.0


def test_the_new_version_copies_every_other_parameter_as_it_was(settings):
    # a parameter the training recorded as None (here: no early stopping) is copied, not dropped
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    served = _served(early_stopping_epoch=None)

    rescored = new_item_weight_version_create(model_version=served, weight=2.0)

    assert rescored.params["early_stopping_epoch"] is None
    assert {
        key: value
        for key, value in rescored.params.items()
        if key not in ("rescore_of", "new_item_weight_set")
    } == served.params

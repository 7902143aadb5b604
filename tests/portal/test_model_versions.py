"""The model versions room: metrics against the baselines, train now, activate and roll back."""

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Job
from portal.model_versions.selectors import model_versions_overview
from recommender.models import ModelVersion
from tests.factories import JobFactory, ModelVersionFactory, RecommendationFactory


def test_model_page_shows_metrics_against_baselines(staff_client, shop_data):
    response = staff_client.get(reverse("staff:model_list"))
    html = response.content.decode()
    labels = [row["label"] for row in response.context["quality"]["rows"]]
    assert labels == ["MLP ranker", "Personal top-frequency", "Popular", "Item kNN", "ALS"]
    assert [column["key"] for column in response.context["quality"]["columns"]][:2] == [
        "ndcg@10",
        "recall@10",
    ]
    assert '<td class="num best">0.3760</td>' in html
    assert 'id="train-now"' in html
    assert '<div id="ndcg-chart"><svg' in html


def test_roll_back_to_a_retired_version(staff_client, shop_data):
    old = shop_data["old_version"]
    old.scored_at = timezone.now()
    old.save()
    RecommendationFactory(model_version=old, customer=shop_data["customers"][0], rank=1)

    response = staff_client.post(reverse("staff:model_activate", args=[old.pk]))

    assert response["Location"] == reverse("staff:model_list")
    old.refresh_from_db()
    shop_data["version"].refresh_from_db()
    assert old.status == ModelVersion.Status.ACTIVE
    assert shop_data["version"].status == ModelVersion.Status.RETIRED


def test_activating_the_served_version_says_it_is_already_served(staff_client, shop_data):
    served = shop_data["version"]
    activated_at = served.activated_at

    response = staff_client.post(reverse("staff:model_activate", args=[served.pk]), follow=True)

    page = response.content.decode()
    assert f"Model v{served.pk} is already served." in page and "is now served" not in page
    served.refresh_from_db()
    assert (served.status, served.activated_at) == (ModelVersion.Status.ACTIVE, activated_at)


def test_a_version_that_cannot_be_served_is_refused_with_the_reason(staff_client, shop_data):
    old = shop_data["old_version"]  # never scored
    response = staff_client.post(reverse("staff:model_activate", args=[old.pk]), follow=True)
    assert "cannot be activated" in response.content.decode()
    old.refresh_from_db()
    assert old.status == ModelVersion.Status.RETIRED


def test_train_now_queues_a_training_job(staff_client, staff_user, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(reverse("staff:model_train"))
    job = Job.objects.get(kind=Job.Kind.TRAIN)
    assert response["Location"] == reverse("staff:job_detail", args=[job.pk])
    assert ModelVersion.objects.get(job=job).status == ModelVersion.Status.QUEUED
    assert job.created_by == staff_user
    assert len(callbacks) == 1


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING])
def test_train_now_while_a_training_is_on_its_way_queues_no_other(staff_client, db, status):
    """A second click queued a second training of the same data, run in full after the first."""
    on_its_way = JobFactory(kind=Job.Kind.TRAIN, status=status)

    response = staff_client.post(reverse("staff:model_train"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("staff:job_detail", args=[on_its_way.pk])
    assert f"A training is already {status} (job {on_its_way.pk})" in response.content.decode()
    assert list(Job.objects.filter(kind=Job.Kind.TRAIN)) == [on_its_way]
    assert not ModelVersion.objects.exists()


def test_train_now_after_a_finished_training_queues_one(staff_client, db):
    JobFactory(kind=Job.Kind.TRAIN, status=Job.Status.SUCCEEDED)
    JobFactory(kind=Job.Kind.TRAIN, status=Job.Status.FAILED)
    JobFactory(kind=Job.Kind.FORECAST, status=Job.Status.RUNNING)

    staff_client.post(reverse("staff:model_train"))

    assert ModelVersion.objects.get().status == ModelVersion.Status.QUEUED


def test_the_rooms_rows_say_the_lift_over_the_best_baseline_and_what_can_be_served(db):
    def version(status, *, scored=True, mlp=0.33):
        metrics = {"mlp": {"ndcg@10": mlp}, "popular": {"ndcg@10": 0.1}, "personal_top": {"ndcg@10": 0.3}}
        return ModelVersionFactory(
            status=status, metrics=metrics, scored_at=timezone.now() if scored else None
        )

    served = version(ModelVersion.Status.ACTIVE)
    old = version(ModelVersion.Status.RETIRED, mlp=0.27)
    rejected = version(ModelVersion.Status.REJECTED)
    unscored = version(ModelVersion.Status.READY, scored=False)
    failed = ModelVersionFactory(status=ModelVersion.Status.FAILED, error="Out of memory")
    training = JobFactory(kind=Job.Kind.TRAIN, status=Job.Status.RUNNING)
    JobFactory(kind=Job.Kind.IMPORT, status=Job.Status.RUNNING)

    overview = model_versions_overview()

    rows = {row["version"].pk: row for row in overview["rows"]}
    assert list(rows) == [failed.pk, unscored.pk, rejected.pk, old.pk, served.pk]  # newest first
    assert rows[served.pk]["best_baseline"] == ("Personal top-frequency", 0.3)  # named, not its key
    assert rows[served.pk]["lift"] == pytest.approx(0.1)
    assert rows[old.pk]["lift"] == pytest.approx(-0.1)
    assert rows[failed.pk]["best_baseline"] is None and rows[failed.pk]["lift"] is None
    can_activate = {pk for pk, row in rows.items() if row["can_activate"]}
    assert can_activate == {old.pk, rejected.pk}
    assert overview["served"] == served and overview["quality"]["version"] == served
    assert overview["ndcg"]["labels"] == [f"v{pk}" for pk in (served.pk, old.pk, rejected.pk, unscored.pk)]
    assert overview["training_jobs"] == [training]


def test_each_version_says_what_its_lists_were_ordered_by(staff_client, db):
    # given a version scored with a shop's discovery settings, and one scored before they were kept
    lists = {
        "top_n": 20,
        "allow_bought": True,
        "max_per_category": 3,
        "min_new_items": 1,
        "new_item_weight": 1.8,
        "explanations": True,
    }
    recorded = ModelVersionFactory(status=ModelVersion.Status.ACTIVE, params={"served_lists": lists})
    older = ModelVersionFactory(status=ModelVersion.Status.RETIRED, params={})
    only_new = ModelVersionFactory(
        status=ModelVersion.Status.READY,
        params={
            "served_lists": {
                **lists,
                "allow_bought": False,
                "new_item_weight": 1.0,
                "max_per_category": 0,
                "explanations": False,
            }
        },
    )

    # when staff open the models room
    html = staff_client.get(reverse("staff:model_list")).content.decode()

    # then each version's row says it
    rows = {row["version"].pk: row["lists"] for row in model_versions_overview()["rows"]}
    assert rows[recorded.pk] == (
        "top 20, at least 1 never-bought, never-bought weighted x1.8, at most 3 a category"
    )
    assert rows[only_new.pk] == "top 20, never-bought only, no explanations"
    assert rows[older.pk] is None
    assert f'<td class="lists">{rows[recorded.pk]}</td>' in html
    assert '<td class="lists">–</td>' in html


def test_a_versions_lists_say_whether_they_follow_the_weight_its_training_chose(db):
    lists = {
        "top_n": 20,
        "allow_bought": True,
        "max_per_category": 0,
        "min_new_items": 1,
        "new_item_weight": 2.2,
        "explanations": True,
    }
    chosen = ModelVersionFactory(params={"served_lists": lists, ModelVersion.NEW_ITEM_WEIGHT_PARAM: 2.2})
    overridden = ModelVersionFactory(
        params={"served_lists": {**lists, "new_item_weight": 1.5}, ModelVersion.NEW_ITEM_WEIGHT_PARAM: 2.2}
    )

    rows = {row["version"].pk: row["lists"] for row in model_versions_overview()["rows"]}

    assert (
        rows[chosen.pk]
        == "top 20, at least 1 never-bought, never-bought weighted x2.2, the weight its training chose"
    )
    assert rows[overridden.pk] == (
        "top 20, at least 1 never-bought, never-bought weighted x1.5, its training chose x2.2"
    )


@pytest.mark.parametrize(
    ("bar_reached", "words"),
    [
        ("popular_both", "beat Popular's list and its never-bought ranking"),
        ("popular_served_list", "beat Popular's list, not its never-bought ranking"),
        (None, "no weight beat Popular's list by the margin"),
    ],
)
def test_a_versions_lists_say_which_of_populars_figures_its_chosen_weight_beat(db, bar_reached, words):
    lists = {
        "top_n": 20,
        "allow_bought": True,
        "max_per_category": 0,
        "min_new_items": 1,
        "new_item_weight": 2.4,
        "explanations": True,
    }
    version = ModelVersionFactory(
        params={
            "served_lists": lists,
            ModelVersion.NEW_ITEM_WEIGHT_PARAM: 2.4,
            ModelVersion.NEW_ITEM_WEIGHT_CHOICE_PARAM: {"new_item_weight": 2.4, "bar_reached": bar_reached},
        }
    )

    rows = {row["version"].pk: row["lists"] for row in model_versions_overview()["rows"]}

    assert rows[version.pk] == (
        "top 20, at least 1 never-bought, never-bought weighted x2.4, "
        f"the weight its training chose ({words})"
    )


def _served_with_a_choice(**params) -> ModelVersion:
    """A served version whose training measured x1, x2 and x2.4, chose x2.4, and whose lists follow it."""
    choice = {
        "min_new_items": 1,
        "popular_served_new_ndcg@10": 0.0306,
        "popular_new_ndcg@10": 0.0430,
        "margin": 1.1,
        "bars": {"popular_both": 0.0473, "popular_served_list": 0.03366},
        "bar_reached": "popular_both",
        "by_weight": {
            "1": {"ndcg@10": 0.3342, "new_ndcg@10": 0.0166, "bar_reached": None},
            "2": {"ndcg@10": 0.3190, "new_ndcg@10": 0.0397, "bar_reached": "popular_served_list"},
            "2.4": {"ndcg@10": 0.3101, "new_ndcg@10": 0.0528, "bar_reached": "popular_both"},
        },
        "new_item_weight": 2.4,
    }
    lists = {
        "top_n": 10,
        "allow_bought": True,
        "max_per_category": 0,
        "min_new_items": 1,
        "new_item_weight": 2.4,
        "explanations": True,
    }
    return ModelVersionFactory(
        status=ModelVersion.Status.ACTIVE,
        artifact_path="/artifacts/v1",
        scored_at=timezone.now(),
        params={
            ModelVersion.NEW_ITEM_WEIGHT_PARAM: 2.4,
            ModelVersion.NEW_ITEM_WEIGHT_CHOICE_PARAM: choice,
            ModelVersion.SERVED_LISTS_PARAM: lists,
            **params,
        },
    )


def test_the_room_shows_how_the_served_versions_training_chose_its_weight(staff_client, db):
    # given a served version whose training measured its lists at three weights against Popular's two
    served = _served_with_a_choice()

    html = staff_client.get(reverse("staff:model_list")).content.decode()

    # then the room shows each weight's lists in the weight's order, what each beat and the chosen one
    table = model_versions_overview()["weight_choice"]
    assert table["version"] == served
    assert [(row["weight"], row["chosen"]) for row in table["rows"]] == [
        (1.0, False),
        (2.0, False),
        (2.4, True),
    ]
    assert [row["beats"] for row in table["rows"]] == [
        None,
        "beat Popular's list, not its never-bought ranking",
        "beat Popular's list and its never-bought ranking",
    ]
    assert f"v{served.pk}'s lists: how its training chose x2.4" in html
    assert html.count('<tr class="weight') == 3
    assert '<tr class="weight chosen served"><td class="num">x2.4 <strong>chosen</strong></td>' in html
    assert "short of Popular's list by the margin" in html


def test_a_version_without_a_recorded_choice_shows_no_weight_table(staff_client, db):
    ModelVersionFactory(status=ModelVersion.Status.ACTIVE, params={"new_item_weight_chosen": 2.2})

    html = staff_client.get(reverse("staff:model_list")).content.decode()

    assert model_versions_overview()["weight_choice"] is None
    assert 'id="weight-choice"' not in html


def test_staff_serve_the_lists_at_another_measured_weight_from_the_card(
    staff_client, staff_user, settings, django_capture_on_commit_callbacks
):
    # given the served version's card, with the weight its lists follow marked
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    served = _served_with_a_choice()
    html = staff_client.get(reverse("staff:model_list")).content.decode()
    form = reverse("staff:model_new_item_weight", args=[served.pk])
    assert f'<form method="post" action="{form}" id="weight-set-form">' in html
    assert '<input type="radio" name="weight" value="2.4" checked> served' in html
    assert '<input type="radio" name="weight" value="2.0"> serve' in html

    # when staff choose x2 and send the form
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(form, {"weight": "2.0"})

    # then the version's artifact is queued for scoring at x2 as a new version, and staff follow its job
    rescored = ModelVersion.objects.get(params__rescore_of=served.pk)
    assert response["Location"] == reverse("staff:job_detail", args=[rescored.job_id])
    assert len(callbacks) == 1
    assert rescored.new_item_weight_set["weight"] == 2.0
    assert rescored.new_item_weight_set["by"] == staff_user.get_username()
    assert rescored.job.created_by == staff_user


def test_a_weight_the_training_did_not_measure_is_refused_on_the_page(staff_client, settings):
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    served = _served_with_a_choice()
    form = reverse("staff:model_new_item_weight", args=[served.pk])

    for weight, words in [
        ("1.4", "did not measure x1.4; choose one of x1, x2, x2.4."),
        ("lots", "got &#x27;lots&#x27;"),
    ]:
        html = staff_client.post(form, {"weight": weight}, follow=True).content.decode()
        assert words in html

    assert ModelVersion.objects.count() == 1


def test_the_card_says_who_set_the_weight_and_the_rows_which_one_is_served(staff_client, settings):
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    staff_set = {"weight": 2.0, "by": "ada", "at": "2026-12-05T10:00:00+00:00"}
    served = _served_with_a_choice(new_item_weight_set=staff_set)
    served.params["served_lists"]["new_item_weight"] = 2.0
    served.save()

    html = staff_client.get(reverse("staff:model_list")).content.decode()

    table = model_versions_overview()["weight_choice"]
    assert [(row["weight"], row["chosen"], row["served"]) for row in table["rows"]] == [
        (1.0, False, False),
        (2.0, False, True),
        (2.4, True, False),
    ]
    assert (
        "x2.0 was set by ada on 2026-12-05; choosing x2.4 goes back to the weight its training chose." in html
    )
    assert "never-bought weighted x2, set by ada, its training chose x2.4" in html


def test_the_weight_form_is_for_staff_who_manage_models_and_only_under_auto(db, settings):
    from django.test import Client

    from core.roles import ANALYST
    from tests.factories import StaffUserFactory

    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    _served_with_a_choice()
    analyst = Client()
    analyst.force_login(StaffUserFactory(username="analyst-w", roles=[ANALYST]))
    html = analyst.get(reverse("staff:model_list")).content.decode()
    assert 'id="weight-choice-table"' in html
    assert 'id="weight-set-form"' not in html and 'type="radio"' not in html
    assert "<td>served</td>" in html

    settings.RECOMMENDER_NEW_ITEM_WEIGHT = 1.6
    admin = Client()
    admin.force_login(StaffUserFactory(username="admin-w"))
    html = admin.get(reverse("staff:model_list")).content.decode()
    assert 'id="weight-set-form"' not in html
    assert "RECOMMENDER_NEW_ITEM_WEIGHT fixes every version's weight at x1.6" in html

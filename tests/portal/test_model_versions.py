"""The model versions room: metrics against the baselines, train now, activate and roll back."""

from django.urls import reverse
from django.utils import timezone

from core.models import Job
from recommender.models import ModelVersion
from tests.factories import RecommendationFactory


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

"""Train -> gate -> score -> serve through a real Celery worker, and the faults on the way."""

import datetime as dt
import os
import signal
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import Job
from crm.models import Customer
from crm.services.demo_data import generate_demo_data
from recommender.models import ModelVersion, Recommendation
from recommender.selectors import recommendation_rows_for_customer
from recommender.services.activation import model_version_activate
from recommender.services.scoring import scored_customer_ids
from recommender.services.training import model_version_train
from recommender.tasks import rescore_enqueue, score_model_version_task, training_enqueue
from tests.conftest import wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Small, fast trainings: the point here is the pipeline, not the model's quality.
FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}


@pytest.fixture
def shop_history():
    return generate_demo_data(
        customers=250, products=80, orders=2500, seed=11, start=dt.date(2024, 1, 1), months=12
    )


def served_version_by_hand() -> ModelVersion:
    """A served version trained in this process (so its artifact and rows are real)."""
    version = ModelVersion.objects.create(params={"config": FAST})
    version = model_version_train(model_version=version)
    score_model_version_task.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE, version.error
    return version


def wait_for(predicate, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"Timed out waiting for {what}")


def test_train_recommender_wait_serves_a_version_with_readable_reasons(shop_history, celery_worker_process):
    # when staff train with --wait (forced past the gate: tiny data, fast settings)
    call_command(
        "train_recommender",
        "--wait",
        "--force",
        "--no-progress",
        "--config",
        '{"epochs": 2, "run_als": false}',
    )

    # then a version is served, with metrics of the MLP and the baselines on the same period
    version = ModelVersion.objects.active().get()
    assert {"mlp", "popular", "personal_top", "item_knn"} <= set(version.metrics)
    assert version.scored_at is not None and version.artifact_path
    # every customer with a purchase has a full list, best first, each with a reason naming real things
    customer = Customer.objects.get(pk=int(scored_customer_ids()[0]))
    served = recommendation_rows_for_customer(customer=customer, limit=10)
    assert len(served) == 10
    assert [row["rank"] for row in served] == list(range(1, 11))
    assert all(row["reason"] and "{" not in row["reason"] for row in served)
    job = Job.objects.get(kind=Job.Kind.TRAIN)
    assert job.status == Job.Status.SUCCEEDED and job.progress == 1.0


def test_a_failed_training_leaves_the_served_version_serving(shop_history, celery_worker_process):
    served = served_version_by_hand()
    before = list(Recommendation.objects.filter(model_version=served).values_list("id", flat=True))

    job = training_enqueue(config={"epochs": 0})  # rejected by the trainer's own validation
    job = wait_for_job(job.pk, timeout=120)

    failed = ModelVersion.objects.get(pk=job.params["model_version_id"])
    assert job.status == Job.Status.FAILED and "epochs" in job.error
    assert failed.status == ModelVersion.Status.FAILED and "epochs" in failed.error
    assert ModelVersion.objects.active().get() == served
    assert list(Recommendation.objects.filter(model_version=served).values_list("id", flat=True)) == before


def test_a_killed_training_is_marked_failed_and_the_served_version_stays(shop_history, celery_worker_process):
    served = served_version_by_hand()
    job = training_enqueue(config={"epochs": 200, "patience": 200, "run_als": False})
    version_id = job.params["model_version_id"]

    # when the process training it dies (as the kernel's OOM killer would do it)
    pid = wait_for(
        lambda: (
            ModelVersion.objects.get(pk=version_id).status == ModelVersion.Status.TRAINING
            and Job.objects.get(pk=job.pk).result.get("worker_pid")
        ),
        what="training to start",
    )
    time.sleep(1.0)
    os.kill(pid, signal.SIGKILL)

    # then the version is failed with a clear error, not retried, and the old one still serves
    job = wait_for_job(job.pk, timeout=120)
    version = ModelVersion.objects.get(pk=version_id)
    assert job.status == Job.Status.FAILED
    assert version.status == ModelVersion.Status.FAILED
    assert "stopped before it finished" in version.error
    assert ModelVersion.objects.active().get() == served


def test_an_interrupted_scoring_serves_nothing_new_and_a_rerun_finishes_the_switch(
    shop_history, celery_worker_process
):
    served = served_version_by_hand()
    customer = Customer.objects.get(pk=int(scored_customer_ids()[0]))
    served_list = [row["product_id"] for row in recommendation_rows_for_customer(customer=customer)]

    # given a newer version whose scoring died half way: some rows written, status left at scoring
    # (forced: this is about the rerun, not about the switch's quality check, which may refuse a version
    # of tiny data that happens to score below the served one)
    newer = model_version_train(
        model_version=ModelVersion.objects.create(params={"config": {**FAST, "seed": 7}, "force": True})
    )
    products = list(
        Recommendation.objects.filter(model_version=served, customer=customer).values_list(
            "product_id", flat=True
        )
    )
    for rank, product_id in enumerate(reversed(products[:3]), start=1):
        Recommendation.objects.create(
            model_version=newer,
            customer=customer,
            product_id=product_id,
            rank=rank,
            score=0.5,
            reason="partial",
        )
    ModelVersion.objects.filter(pk=newer.pk).update(status=ModelVersion.Status.SCORING)

    # then readers still see exactly the served version's list
    assert [row["product_id"] for row in recommendation_rows_for_customer(customer=customer)] == served_list

    # when the scoring is run again by a worker (as a redelivered message would be)
    score_model_version_task.delay(newer.pk)
    wait_for(
        lambda: ModelVersion.objects.get(pk=newer.pk).status == ModelVersion.Status.ACTIVE, what="switch"
    )

    # then the new version is complete (no partial rows left) and served; the old one is kept for roll back
    rows = Recommendation.objects.filter(model_version=newer)
    assert not rows.filter(reason="partial").exists()
    assert rows.values("customer_id").distinct().count() == len(scored_customer_ids())
    served.refresh_from_db()
    assert served.status == ModelVersion.Status.RETIRED
    assert {row["model_version_id"] for row in recommendation_rows_for_customer(customer=customer)} == {
        newer.pk
    }
    model_version_activate(model_version=served)
    assert [row["product_id"] for row in recommendation_rows_for_customer(customer=customer)] == served_list


def test_train_recommender_wait_exits_non_zero_when_training_fails(shop_history, celery_worker_process):
    with pytest.raises(CommandError, match="failed"):
        call_command("train_recommender", "--wait", "--no-progress", "--config", '{"epochs": 0}')
    assert not ModelVersion.objects.active().exists()


def test_staff_serve_the_lists_at_another_weight_and_the_hourly_rescoring_keeps_it(
    shop_history, celery_worker_process, settings
):
    import numpy as np
    from django.test import Client
    from django.urls import reverse

    from recommender import ml
    from recommender.services import frames
    from recommender.services.scoring import trained_model_for
    from tests.factories import StaffUserFactory

    # given a served version whose training chose its weight of never-bought products (the default "auto")
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = "auto"
    served = served_version_by_hand()
    chosen = served.chosen_new_item_weight
    assert served.served_lists["new_item_weight"] == chosen
    other = next(weight for weight in (1.0, 3.0) if weight != chosen)
    staff = Client()
    staff.force_login(StaffUserFactory(username="weights-admin"))

    # when staff choose another of the weights it measured on the Models room's card
    response = staff.post(reverse("staff:model_new_item_weight", args=[served.pk]), {"weight": str(other)})

    # then a worker scores the same artifact at that weight, as a new version, and serves it
    rescored = ModelVersion.objects.get(params__rescore_of=served.pk)
    assert response["Location"] == reverse("staff:job_detail", args=[rescored.job_id])
    assert wait_for_job(rescored.job_id).status == Job.Status.SUCCEEDED
    rescored.refresh_from_db()
    assert rescored.status == ModelVersion.Status.ACTIVE
    assert rescored.served_lists["new_item_weight"] == other
    assert rescored.chosen_new_item_weight == chosen
    stored = list(
        Recommendation.objects.filter(model_version=rescored)
        .order_by("customer_id", "rank")
        .values_list("customer_id", "product_id", "rank")
    )
    expected = ml.recommend(
        trained_model_for(rescored),
        customer_ids=np.array(sorted({row[0] for row in stored}), dtype="int64"),
        available_product_ids=frames.available_product_ids(),
        **rescored.served_lists,
    )
    assert stored == list(expected[["customer_id", "product_id", "rank"]].itertuples(index=False, name=None))
    served.refresh_from_db()
    assert served.status == ModelVersion.Status.RETIRED

    # and the hourly rescoring of the served artifact keeps the weight staff set
    hourly = rescore_enqueue(model_version=rescored)
    assert wait_for_job(hourly.pk).status == Job.Status.SUCCEEDED
    again = ModelVersion.objects.active().get()
    assert again.pk not in {served.pk, rescored.pk}
    assert again.served_lists["new_item_weight"] == other
    assert again.new_item_weight_set["by"] == "weights-admin"


@pytest.mark.django_db
def test_train_recommender_refuses_a_config_setting_it_does_not_know():
    """An unknown key in --config was dropped without a word, and the job trained on the defaults."""
    with pytest.raises(CommandError, match=r"Unknown training setting in --config: epoks\. Known: .*epochs"):
        call_command("train_recommender", "--config", '{"epoks": 5}')
    with pytest.raises(CommandError, match="must be a JSON object"):
        call_command("train_recommender", "--config", "[5]")
    assert not Job.objects.exists() and not ModelVersion.objects.exists()

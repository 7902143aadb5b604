"""The beat schedule and the queue routes name tasks that exist."""

from django.conf import settings

from retail_site.celery import app


def registered_tasks() -> set[str]:
    app.loader.import_default_modules()
    return set(app.tasks)


def test_every_scheduled_task_exists():
    names = registered_tasks()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "recommender.tasks.scheduled_retrain_task",
        "recommender.tasks.scheduled_rescore_task",
        "crm.tasks.marketing.scheduled_segments_task",
        "inventory.tasks.scheduled_forecast_task",
        "crm.tasks.privacy.scheduled_retention_task",
    }
    assert scheduled <= names


def test_training_is_routed_to_its_own_queue_with_time_limits():
    names = registered_tasks()
    assert set(settings.CELERY_TASK_ROUTES) <= names
    assert settings.CELERY_TASK_ROUTES["recommender.tasks.train_model_version_task"] == {"queue": "training"}
    train = app.tasks["recommender.tasks.train_model_version_task"]
    assert train.soft_time_limit == settings.RECOMMENDER_TRAIN_SOFT_TIME_LIMIT
    assert train.time_limit == settings.RECOMMENDER_TRAIN_TIME_LIMIT > train.soft_time_limit

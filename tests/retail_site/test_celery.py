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
        "core.tasks.sweep_jobs_task",
        "recommender.tasks.sweep_model_versions_task",
    }
    assert scheduled <= names


def test_training_is_routed_to_its_own_queue_with_time_limits():
    names = registered_tasks()
    assert set(settings.CELERY_TASK_ROUTES) <= names
    assert settings.CELERY_TASK_ROUTES["recommender.tasks.train_model_version_task"] == {"queue": "training"}
    train = app.tasks["recommender.tasks.train_model_version_task"]
    assert train.soft_time_limit == settings.RECOMMENDER_TRAIN_SOFT_TIME_LIMIT
    assert train.time_limit == settings.RECOMMENDER_TRAIN_TIME_LIMIT > train.soft_time_limit


def test_every_task_has_a_time_limit_and_the_broker_outwaits_the_longest():
    names = registered_tasks()
    ours = [app.tasks[name] for name in names if name.split(".")[0] in {"core", "crm", "recommender"}]
    assert ours and all(task.time_limit and task.soft_time_limit for task in ours)
    # a message a worker still runs is never handed to a second worker by Redis before its hard limit
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert app.conf.broker_transport_options["visibility_timeout"] > max(task.time_limit for task in ours)
    assert "sweep-stale-jobs" in settings.CELERY_BEAT_SCHEDULE

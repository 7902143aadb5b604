"""The Celery app, configured from Django settings (keys prefixed ``CELERY_``)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")

app = Celery("retail_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def _reads_start_on_the_replica(**kwargs) -> None:
    """Each task starts unpinned (see retail_site.db_router); a worker process runs many tasks."""
    from retail_site.db_router import unpin

    unpin()

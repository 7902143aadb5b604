"""The Celery app, configured from Django settings (keys prefixed ``CELERY_``)."""

import os

from celery import Celery, signals

# Production unless told otherwise: a server started without DJANGO_SETTINGS_MODULE refuses to run
# without a SECRET_KEY and ALLOWED_HOSTS rather than serving with DEBUG on and a known key. `make run`
# and manage.py choose the local settings themselves.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.production")

app = Celery("retail_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def _reads_start_on_the_replica(**kwargs) -> None:
    """Each task starts unpinned (see retail_site.db_router); a worker process runs many tasks."""
    from retail_site.db_router import unpin

    unpin()

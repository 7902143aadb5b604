"""Housekeeping of model versions."""

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.models import Job
from recommender.models import ModelVersion


def model_versions_sweep() -> int:
    """Fail the versions still marked queued, training or scoring whose job has ended (or that have no
    job and are older than JOB_QUEUED_FAIL_AFTER_SECONDS): nothing will finish them, and they would
    block the nightly retrain and the hourly rescore. Returns how many were failed."""
    failed = 0
    old = timezone.now() - timezone.timedelta(seconds=settings.JOB_QUEUED_FAIL_AFTER_SECONDS)
    stuck = ModelVersion.objects.in_progress().filter(
        Q(job__status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED]) | Q(job__isnull=True, created_at__lt=old)
    )
    for version in stuck.select_related("job"):
        reason = version.job.error if version.job and version.job.error else "its job ended"
        failed += ModelVersion.objects.filter(pk=version.pk, status=version.status).update(
            status=ModelVersion.Status.FAILED,
            error=f"Left {version.status} and failed by the sweep: {reason}"[:2000],
        )
    return failed

"""Job rows: how every background run reports its progress, result and error to the portal."""

from typing import Any

from django.utils import timezone

from core.models import Job


def job_create(*, kind: str, params: dict[str, Any] | None = None, user=None, message: str = "") -> Job:
    return Job.objects.create(kind=kind, params=params or {}, created_by=user, message=message or "Queued")


def job_set_progress(*, job_id: int, progress: float, message: str = "") -> None:
    """Record progress (0..1). A plain UPDATE, so it is visible at once outside any transaction."""
    fields: dict[str, Any] = {"progress": max(0.0, min(1.0, float(progress)))}
    if message:
        fields["message"] = message[:255]
    Job.objects.filter(pk=job_id).update(**fields)


def job_succeed(*, job_id: int, result: dict[str, Any] | None = None, message: str = "Done") -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        result=result or {},
        message=message[:255],
        finished_at=timezone.now(),
    )


def job_fail(*, job_id: int, error: str, message: str = "Failed") -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.FAILED, error=error, message=message[:255], finished_at=timezone.now()
    )


class JobReporter:
    """Passed to long-running services so they can report progress without knowing about Jobs."""

    def __init__(self, job_id: int | None, *, start: float = 0.0, end: float = 1.0) -> None:
        self.job_id = job_id
        self.start = start
        self.end = end

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.job_id is None:
            return
        job_set_progress(
            job_id=self.job_id, progress=self.start + (self.end - self.start) * fraction, message=message
        )

    def part(self, start: float, end: float) -> "JobReporter":
        span = self.end - self.start
        return JobReporter(self.job_id, start=self.start + span * start, end=self.start + span * end)

"""What the portal reads of background jobs."""

from django.db.models import QuerySet

from core.models import Job


def job_list_recent(*, limit: int = 10) -> list[Job]:
    return list(Job.objects.top_level().select_related("created_by").order_by("-created_at")[:limit])


def job_list_unfinished(*, limit: int = 20) -> list[Job]:
    return list(
        Job.objects.unfinished().top_level().select_related("created_by").order_by("-created_at")[:limit]
    )


def job_latest_unfinished(*, kind: str) -> Job | None:
    return Job.objects.unfinished().filter(kind=kind).order_by("-created_at").first()


def job_latest_for_promotion(*, promotion_id: int) -> Job | None:
    """The newest targets job of a promotion (its id is in the job's params)."""
    return (
        Job.objects.filter(kind=Job.Kind.TARGETS, params__promotion_id=promotion_id)
        .order_by("-created_at")
        .first()
    )


def job_list(*, kind: str = "") -> QuerySet[Job]:
    """Every job, newest first; of one kind when ``kind`` names one."""
    jobs = Job.objects.top_level().select_related("created_by").order_by("-created_at")
    return jobs.filter(kind=kind) if kind else jobs


def job_list_imports(*, limit: int = 10) -> list[Job]:
    return list(job_list(kind=Job.Kind.IMPORT)[:limit])

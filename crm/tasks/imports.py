"""Order imports run by a worker, reporting progress into their Job row."""

from pathlib import Path

from celery import shared_task

from core.jobs import job_create, job_fail, job_running, job_succeed
from crm.services.importing import ImportValidationError, import_order_file
from crm.services.privacy import import_upload_discard


@shared_task
def import_orders_task(job_id: int) -> None:
    from core.models import Job

    params = Job.objects.get(pk=job_id).params
    with job_running(job_id) as reporter:
        try:
            report = import_order_file(
                path=Path(params["path"]),
                file_format=params.get("file_format", "auto"),
                skip_invalid=bool(params.get("skip_invalid", False)),
                rejects_path=Path(params["rejects_path"]) if params.get("rejects_path") else None,
                progress=reporter,
            )
        except ImportValidationError as error:
            # A bad file is an answer for the person who uploaded it, not a crash of the worker. The
            # job says where and what is wrong, never the rows' values (they may be personal data).
            errors = "\n".join(row_error.describe(with_value=False) for row_error in error.errors)
            job_fail(
                job_id=job_id,
                error=f"{error.summary(with_values=False)}\n\n{errors}",
                message=f"{error.error_count} bad rows",
            )
            # The upload has served its purpose: it is not kept (it holds customers' personal data).
            import_upload_discard(path=params["path"])
            return
        job_succeed(
            job_id=job_id,
            result=report.to_dict(with_values=False),
            message=f"{report.rows_imported} rows imported, {report.rows_rejected} rejected",
        )
        import_upload_discard(path=params["path"])


def import_orders_enqueue(
    *, path: Path, file_format: str, file_type: str, skip_invalid: bool, original_name: str, user=None
):
    """An import job for a worker; if the broker cannot take it, the job is failed with the reason."""
    from core.models import Job

    job = job_create(
        kind=Job.Kind.IMPORT,
        user=user,
        params={
            "path": str(path),
            "file_format": file_format,
            "file_type": file_type,
            "skip_invalid": skip_invalid,
            "original_name": original_name,
        },
    )
    try:
        import_orders_task.delay(job.pk)
    except Exception as exc:
        job_fail(job_id=job.pk, error=f"Could not queue the import: {exc}")
        raise
    return job

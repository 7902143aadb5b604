"""Order imports run by a worker, reporting progress into their Job row."""

from pathlib import Path

from core.jobs import JobReporter, job_create, job_fail
from core.models import Job
from core.tasks import JobFailed, job_send, job_task
from crm.services.importing import ImportValidationError, import_order_file
from crm.services.privacy import import_upload_discard


@job_task()
def import_orders_task(job: Job) -> tuple[dict, str]:
    # The import writes in one transaction, so a retry or a redelivery after a dead worker starts clean;
    # an import that kills its worker every time stops after CELERY_TASK_MAX_DELIVERIES starts.
    params = job.params
    try:
        report = import_order_file(
            path=Path(params["path"]),
            file_format=params.get("file_format", "auto"),
            skip_invalid=bool(params.get("skip_invalid", False)),
            rejects_path=Path(params["rejects_path"]) if params.get("rejects_path") else None,
            progress=JobReporter(job.pk),
        )
    except ImportValidationError as error:
        # A bad file is an answer for the person who uploaded it, not a crash of the worker. The job says
        # where and what is wrong, never the rows' values (they may be personal data); the upload has
        # served its purpose and is not kept.
        # The file is named as the uploader named it: the job is read by every staff role, and the
        # server's path says nothing to them. Each error once; the rows are counted as an import of
        # the valid rows would count the ones it rejects.
        errors = "\n".join(row_error.describe(with_value=False) for row_error in error.errors)
        name = params.get("original_name") or Path(params["path"]).name
        shown = len(error.errors)
        more = f" ({error.error_count} errors, the first {shown} below)" if shown < error.error_count else ""
        import_upload_discard(path=params["path"])
        problem = error.problem()
        raise JobFailed(
            f"{name}: {problem}{more}; nothing was imported.\n\n{errors}", message=problem
        ) from error
    import_upload_discard(path=params["path"])
    result = report.to_dict(with_values=False)
    # files named as the uploader knows them, not where they lie on the server
    result["source"] = params.get("original_name") or Path(params["path"]).name
    if result.get("rejects_path"):
        result["rejects_path"] = Path(result["rejects_path"]).name
    return result, f"{report.rows_imported} rows imported, {report.rows_rejected} rejected"


def import_orders_enqueue(
    *, path: Path, file_format: str, file_type: str, skip_invalid: bool, original_name: str, user=None
):
    """An import job for a worker; if the broker cannot take it, the job is failed with the reason."""
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
        job_send(job=job, task_name=import_orders_task.name, on_commit=False)
    except Exception as exc:
        job_fail(job_id=job.pk, error=f"Could not queue the import: {exc}")
        raise
    return job

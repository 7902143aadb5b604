"""Celery tasks that run a Job, guarded against the faults of a distributed queue.

``@job_task`` turns a function of a claimed ``Job`` into a Celery task that:

- claims the Job row atomically (a locked read, then one UPDATE: status, delivery count, owner, heartbeat),
  so a redelivered message, a second copy or a resend by the sweep never runs a job twice: a finished job
  is skipped, a job whose process is alive is left to it, a job whose process died is taken over;
- fails a job started ``CELERY_TASK_MAX_DELIVERIES`` times (retries and redeliveries together) with the
  reason instead of starting it again, so a message that kills its worker stops after a few workers;
- holds an optional lock key (one running job per key: one training at a time, one target run per
  promotion); a job that finds the key taken waits in the queue and asks again;
- stamps a heartbeat while it runs, so the sweep and other workers can tell a live run from a dead one;
- retries only the errors declared safe to retry (a lost database connection), with the job back in the
  queue; any other error, and the soft time limit, fail the job with the reason.
"""

import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import current_app, shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, close_old_connections, transaction
from django.utils import timezone

from core.jobs import job_fail, job_succeed
from core.models import Job

logger = logging.getLogger(__name__)

# Errors after which running the job again is safe: the database went away mid-job, and every job
# writes in transactions, so nothing it wrote half is visible.
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


class JobFailed(Exception):
    """Raised by a job function for an answer that is a failure of the job, not a crash (a bad file)."""

    def __init__(self, error: str, message: str = "Failed") -> None:
        super().__init__(error)
        self.error = error
        self.message = message


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str, heartbeat_at) -> bool:
    """Whether the process named by ``owner`` still runs its job: on this host, its pid exists and its
    heartbeat is fresh; on another host, its heartbeat is fresh."""
    if not owner:
        return False
    fresh = heartbeat_at is not None and (timezone.now() - heartbeat_at).total_seconds() < (
        settings.JOB_STALE_AFTER_SECONDS
    )
    host, pid, *_ = owner.split(":") + ["", ""]
    if host != socket.gethostname():
        return fresh
    if not pid.isdigit() or int(pid) == os.getpid():
        # This process runs one task at a time: an earlier run recorded under its pid has ended.
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return fresh


@dataclass(frozen=True)
class Claim:
    outcome: str  # "run", "skip" (finished or running elsewhere), "failed" (poison), "wait" (lock taken)
    job: Job
    reason: str = ""


def job_claim(
    *, job_id: int, owner: str, lock_key: str = "", max_deliveries: int, take_over: str = ""
) -> Claim:
    """Take the job for ``owner``, or say why not (see the module's docstring)."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return Claim("skip", job, f"job #{job.pk} has already {job.status}")
        redelivered = job.status == Job.Status.RUNNING
        if redelivered and job.owner != take_over and owner_alive(job.owner, job.heartbeat_at):
            return Claim("skip", job, f"job #{job.pk} is running in {job.owner}")
        if job.deliveries >= max_deliveries:
            how = (
                "its worker stopped before it finished each time "
                "(killed, out of memory or past its hard time limit)"
                if redelivered
                else "every attempt failed"
            )
            reason = f"Not started again after {job.deliveries} deliveries: {how}."
            if job.error:
                reason += f"\n\nLast error: {job.error}"
            Job.objects.filter(pk=job.pk).update(
                status=Job.Status.FAILED, error=reason, message="Failed: delivered too often", finished_at=now
            )
            job.refresh_from_db()
            return Claim("failed", job, reason)
        if lock_key:
            holder = (
                Job.objects.filter(status=Job.Status.RUNNING, lock_key=lock_key).exclude(pk=job.pk).first()
            )
            if holder is not None:
                if owner_alive(holder.owner, holder.heartbeat_at):
                    return Claim("wait", job, f"Waiting for job #{holder.pk} ({lock_key})")
                Job.objects.filter(pk=holder.pk).update(
                    status=Job.Status.FAILED,
                    error="Its worker stopped without finishing (found dead by the next job of its kind).",
                    message="Failed: worker stopped",
                    finished_at=now,
                )
        try:
            with transaction.atomic():
                Job.objects.filter(pk=job.pk).update(
                    status=Job.Status.RUNNING,
                    deliveries=job.deliveries + 1,
                    owner=owner,
                    heartbeat_at=now,
                    lock_key=lock_key,
                    started_at=job.started_at or now,
                    finished_at=None,
                    message="Running"
                    if job.deliveries == 0
                    else f"Running again (start {job.deliveries + 1})",
                )
        except IntegrityError:
            return Claim("wait", job, f"Waiting for another job ({lock_key})")
    job.refresh_from_db()
    return Claim("run", job)


class _Heartbeat(threading.Thread):
    """Stamps the job (and its parent) every JOB_HEARTBEAT_SECONDS while the task runs."""

    def __init__(self, job: Job, owner: str) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job.pk}")
        self.job_id, self.parent_id, self.owner = job.pk, job.parent_id, owner
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    now = timezone.now()
                    Job.objects.filter(pk=self.job_id, owner=self.owner).update(heartbeat_at=now)
                    if self.parent_id:
                        Job.objects.filter(pk=self.parent_id).update(heartbeat_at=now)
                except Exception:  # the database may be restarting: the next beat tries again
                    logger.warning("Heartbeat of job %s not written", self.job_id, exc_info=True)
                    connection.close()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def _quietly(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:
        logger.warning("Could not record a job's outcome (is the database down?)", exc_info=True)


def job_task(
    *,
    job_id_from: Callable[..., int] | None = None,
    lock_key: Callable[[Job], str] | None = None,
    on_failure: Callable[[Job, str], None] | None = None,
    on_success: Callable[[Job], None] | None = None,
    retry_on: tuple[type[BaseException], ...] = RETRYABLE_ERRORS,
    max_deliveries: int | None = None,
    **task_options: Any,
):
    """Decorate ``fn(job, *args, **kwargs)``; the task takes the job's id first (or what ``job_id_from``
    maps to it). ``fn`` returns the job's result dict (and may return ``(result, message)``) or raises
    ``JobFailed``, or returns None when it handed the job on (``job_hand_over``) or left it to its
    children; ``on_failure(job, reason)`` is told of every failure (to fail a model version) and
    ``on_success(job)`` of a success (a chunk tells its parent)."""

    def decorate(fn: Callable[..., Any]):
        options = {
            "bind": True,
            "acks_late": True,
            "reject_on_worker_lost": True,
            "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT,
            "time_limit": settings.CELERY_TASK_TIME_LIMIT,
            **task_options,
        }

        @shared_task(**options)
        @functools.wraps(fn)
        def task(self, *args: Any, _after: str = "", **kwargs: Any) -> None:
            job_id = job_id_from(*args, **kwargs) if job_id_from else args[0]
            job = Job.objects.get(pk=job_id)
            owner = _owner()
            claim = job_claim(
                job_id=job_id,
                owner=owner,
                lock_key=lock_key(job) if lock_key else "",
                max_deliveries=max_deliveries or settings.CELERY_TASK_MAX_DELIVERIES,
                take_over=_after,
            )
            if claim.outcome == "skip":
                logger.info("%s not run: %s", self.name, claim.reason)
                return
            if claim.outcome == "failed":
                logger.error("%s: job %s %s", self.name, job_id, claim.reason)
                if on_failure:
                    on_failure(claim.job, claim.reason)
                return
            if claim.outcome == "wait":
                Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(message=claim.reason[:255])
                raise self.retry(countdown=settings.JOB_LOCK_RETRY_SECONDS, max_retries=None)

            job = claim.job
            heartbeat = None if self.request.is_eager else _Heartbeat(job, owner)
            if heartbeat:
                heartbeat.start()
            try:
                # Without job_id_from the first argument is the job's id, and fn gets the Job in its place.
                outcome = fn(job, *(args if job_id_from else args[1:]), **kwargs)
            except JobFailed as failure:
                job_fail(job_id=job_id, error=failure.error, message=failure.message)
                if on_failure:
                    on_failure(job, failure.error)
                return
            except SoftTimeLimitExceeded:
                reason = f"Ran past its time limit ({self.soft_time_limit or options['soft_time_limit']} s)."
                job_fail(job_id=job_id, error=reason, message="Failed: time limit")
                if on_failure:
                    on_failure(job, reason)
                return
            except Retry:
                raise
            except retry_on as exc:
                if job.deliveries >= (max_deliveries or settings.CELERY_TASK_MAX_DELIVERIES):
                    reason = f"{type(exc).__name__}: {exc} (after {job.deliveries} starts)"
                    _quietly(lambda: job_fail(job_id=job_id, error=reason))
                    if on_failure:
                        _quietly(lambda: on_failure(job, reason))
                    return
                if not self.request.is_eager:
                    close_old_connections()  # the broken connection; the next query opens a new one
                lost = f"{type(exc).__name__}: {exc}"
                _quietly(
                    lambda: Job.objects.filter(pk=job_id, owner=owner).update(
                        status=Job.Status.QUEUED,
                        owner="",
                        error=lost,
                        message="Retrying after a lost connection",
                    )
                )
                logger.warning("%s: job %s will be retried after %s", self.name, job_id, exc)
                raise self.retry(
                    exc=exc,
                    countdown=min(60, 5 * 2**job.deliveries),
                    max_retries=None,
                    kwargs={**kwargs, "_after": owner},
                ) from exc
            except Exception as exc:
                # The job keeps what went wrong; the traceback, which names the code's files and lines,
                # goes to the worker's log only (the job is read by every staff role and the API).
                short = f"{type(exc).__name__}: {exc}"
                logger.exception("%s: job %s failed", self.name, job_id)
                _quietly(lambda: job_fail(job_id=job_id, error=short))
                if on_failure:
                    _quietly(lambda: on_failure(job, short))
                return
            finally:
                if heartbeat:
                    heartbeat.stop()
            result, message = outcome if isinstance(outcome, tuple) else (outcome, "Done")
            if result is not None:
                job_succeed(job_id=job_id, result=result, message=message)
                if on_success:
                    on_success(job)

        return task

    return decorate


def job_send(*, job: Job, task_name: str, args: list[Any] | None = None, on_commit: bool = True) -> Job:
    """Record which task runs ``job`` (so the sweep can send it again) and send it: after the caller's
    transaction commits (if the broker cannot take it then, the job stays queued for the sweep), or at
    once with ``on_commit=False`` (a broker error is raised to the caller)."""
    args = [job.pk] if args is None else list(args)
    Job.objects.filter(pk=job.pk).update(task_name=task_name, task_args=args)
    job.task_name, job.task_args = task_name, args

    def send_later() -> None:
        try:
            current_app.tasks[task_name].apply_async(args=args)
        except Exception:
            logger.exception("Could not send job %s; the sweep sends it again later", job.pk)
            Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
                message="Waiting for the broker (sent again by the sweep)"
            )

    if on_commit:
        transaction.on_commit(send_later)
    else:
        current_app.tasks[task_name].apply_async(args=args)
    return job


def job_hand_over(*, job: Job, task_name: str, args: list[Any], message: str = "Queued") -> None:
    """End this task's hold on ``job`` and queue its next step (training hands over to scoring): the
    next task claims it like a new job, with its own deliveries."""
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.QUEUED, owner="", deliveries=0, lock_key="", message=message[:255]
    )
    job_send(job=job, task_name=task_name, args=args)


def jobs_sweep() -> dict[str, int]:
    """Finish what nobody will: running jobs whose process died (and no message will bring back) are
    failed, queued jobs nobody took are sent again, then failed when they stay queued too long."""
    now = timezone.now()
    failed = resent = 0
    stale_before = now - timezone.timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    for job in Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=stale_before):
        if job.children.unfinished().exists() or owner_alive(job.owner, job.heartbeat_at):
            continue
        failed += Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, owner=job.owner).update(
            status=Job.Status.FAILED,
            error="Its worker stopped without finishing "
            f"(no heartbeat since {job.heartbeat_at:%Y-%m-%d %H:%M:%S}).",
            message="Failed: worker stopped",
            finished_at=now,
        )
    give_up_before = now - timezone.timedelta(seconds=settings.JOB_QUEUED_FAIL_AFTER_SECONDS)
    failed += Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=give_up_before).update(
        status=Job.Status.FAILED,
        error="No worker took this job (was the broker or every worker down?).",
        message="Failed: never started",
        finished_at=now,
    )
    resend_before = now - timezone.timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS)
    for job in Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=resend_before).exclude(
        task_name=""
    ):
        if job.heartbeat_at and job.heartbeat_at >= resend_before:
            continue  # sent again recently
        Job.objects.filter(pk=job.pk).update(heartbeat_at=now)
        job_send(job=job, task_name=job.task_name, args=job.task_args, on_commit=False)
        resent += 1
    return {"failed": failed, "resent": resent}


@shared_task(soft_time_limit=120, time_limit=180)
def sweep_jobs_task() -> dict[str, int]:
    """Every few minutes (beat): see ``jobs_sweep``."""
    return jobs_sweep()

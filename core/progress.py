"""Shared by commands with ``--wait``: follow a Job row with a progress bar until it finishes."""

import sys
import time

from django.core.management.base import CommandError, CommandParser
from tqdm import tqdm

from core.models import Job


def add_wait_arguments(
    parser: CommandParser, *, wait_help: str = "Wait for the job, with a progress bar."
) -> None:
    """``--wait``, ``--timeout`` and ``--no-progress`` of a command that queues a job."""
    parser.add_argument("--wait", action="store_true", help=wait_help)
    parser.add_argument("--timeout", type=float, default=None, help="Seconds to wait at most with --wait.")
    parser.add_argument("--no-progress", action="store_true")


def follow_job_for_command(job: Job, options: dict) -> Job:
    """``follow_job`` with the options of ``add_wait_arguments``; running out of time is a CommandError."""
    try:
        return follow_job(job.pk, show_progress=not options["no_progress"], timeout=options["timeout"])
    except TimeoutError as exc:
        raise CommandError(str(exc)) from exc


def follow_job(
    job_id: int, *, show_progress: bool = True, timeout: float | None = None, poll: float = 1.0
) -> Job:
    bar = tqdm(
        total=100, unit="%", disable=not show_progress, file=sys.stderr, bar_format="{l_bar}{bar}| {n:.0f}%"
    )
    started = time.monotonic()
    try:
        while True:
            job = Job.objects.get(pk=job_id)
            bar.n = round(job.progress * 100)
            bar.set_description_str((job.message or job.status)[:50])
            bar.refresh()
            if job.is_finished:
                return job
            if timeout is not None and time.monotonic() - started > timeout:
                raise TimeoutError(f"Job {job_id} did not finish within {timeout:.0f} s")
            time.sleep(poll)
    finally:
        bar.close()

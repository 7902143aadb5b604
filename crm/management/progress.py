"""Shared by commands with ``--wait``: follow a Job row with a progress bar until it finishes."""

import sys
import time

from tqdm import tqdm

from crm.models import Job


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

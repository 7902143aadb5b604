"""Scoring as chunk tasks with 1, 2, 4 worker processes: wall time from dispatch to the switch.

Uses the shop in DATABASE_URL (bench/bench_generate.py makes one; ``--generate`` makes it here), trains
one version in this process (small, fast settings: the subject is the scoring), then for each process
count starts a ``celery worker --concurrency N`` on its own queue of CELERY_BROKER_URL and scores the
version again (a rescoring: every chunk, the finish and the switch):

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/bench_scoring_workers.py --processes 1 2 4 --chunk-size 2000

``--version ID`` scores a version trained before instead (one process count at a time, say).
"""

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")

FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}


def start_worker(processes: int, queue: str, chunk_size: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "RECOMMENDER_SCORE_CHUNK_SIZE": str(chunk_size),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "retail_site", "worker", "-Q", queue]
    command += ["--concurrency", str(processes), "-n", f"bench-{queue}@%h", "--without-gossip"]
    command += ["--without-mingle", "--loglevel", "INFO"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(log.read_text())
        time.sleep(0.2)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--generate", nargs=3, type=int, metavar=("CUSTOMERS", "PRODUCTS", "ORDERS"))
    parser.add_argument(
        "--version",
        type=int,
        help="score this trained version instead of training one (e.g. to time one process count at a time)",
    )
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from core.models import Job
    from crm.services.demo_data import generate_demo_data
    from recommender.models import ModelVersion
    from recommender.services.rescoring import rescore_version_create
    from recommender.services.scoring import scored_customer_ids
    from recommender.services.training import model_version_train
    from recommender.tasks import score_model_version_task

    call_command("migrate", verbosity=0)
    if arguments.generate:
        customers, products, orders = arguments.generate
        generate_demo_data(
            customers=customers,
            products=products,
            orders=orders,
            seed=1,
            start=dt.date(2023, 1, 1),
            months=24,
            replace=True,
        )
    if arguments.version:
        trained = ModelVersion.objects.get(pk=arguments.version)
    else:
        started = time.perf_counter()
        trained = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
        print(f"trained v{trained.pk} in {time.perf_counter() - started:.0f} s")
    customers = len(scored_customer_ids())
    print(f"customers scored  {customers:,}; chunk size {arguments.chunk_size}; {os.cpu_count()} CPUs")
    for processes in arguments.processes:
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        with tempfile.TemporaryDirectory() as folder:
            worker = start_worker(processes, queue, arguments.chunk_size, Path(folder) / "worker.log")
            try:
                version = rescore_version_create(model_version=trained)
                ModelVersion.objects.filter(pk=version.pk).update(params={**version.params, "force": True})
                started = time.perf_counter()
                score_model_version_task.apply_async(args=[version.pk, False], queue=queue)
                while not Job.objects.get(pk=version.job_id).is_finished:
                    time.sleep(0.2)
                seconds = time.perf_counter() - started
                job = Job.objects.get(pk=version.job_id)
                chunks = Job.objects.filter(parent=job, kind=Job.Kind.SCORE_CHUNK).count()
                load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
                print(
                    f"processes={processes}  {job.status}  {seconds:.1f} s"
                    f"  {customers / seconds:,.0f} customers/s  chunks={chunks}  load average {load}"
                )
            finally:
                worker.terminate()
                worker.wait(timeout=60)


if __name__ == "__main__":
    main()

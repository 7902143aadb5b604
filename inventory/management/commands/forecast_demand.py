import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.models import Job
from core.progress import add_wait_arguments, follow_job_for_command
from inventory.models import ForecastRun
from inventory.tasks import forecast_enqueue

MAX_HORIZON_DAYS = 366


def horizon(value: str) -> int:
    days = int(value)
    if not 1 <= days <= MAX_HORIZON_DAYS:
        raise ValueError(value)
    return days


horizon.__name__ = "horizon (1-366 days)"


class Command(BaseCommand):
    help = (
        "Forecast units sold per product and day in a worker. Prints the job id; with --wait, follows it "
        "and prints the models chosen and the backtest (exit 1 if it failed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="YYYY-MM-DD, the first forecast day; only sales before it are used. Default: the day "
            "after the latest order.",
        )
        parser.add_argument(
            "--horizon",
            type=horizon,
            default=None,
            help=f"Days to forecast (default {settings.INVENTORY_FORECAST_HORIZON_DAYS}).",
        )
        add_wait_arguments(parser)

    def handle(self, *args, **options):
        job = forecast_enqueue(as_of=options["as_of"], horizon_days=options["horizon"])
        self.stdout.write(f"Queued forecast job {job.pk}.")
        if not options["wait"]:
            return
        job = follow_job_for_command(job, options)
        if job.status == Job.Status.FAILED:
            raise CommandError(f"Forecast job {job.pk} failed: {job.error}")
        run = ForecastRun.objects.get(pk=job.result["forecast_run_id"])
        self.stdout.write(
            f"Forecast run {run.pk} as of {run.as_of}, {run.horizon_days} days: "
            f"{run.product_count:,} products in {run.seconds:.1f} s"
        )
        for name, row in run.backtest.items():
            if "chosen" in row:
                self.stdout.write(f"  {name:<13} {row['products']:>6,} products -> {row['chosen']}")
        overall = run.backtest.get("all", {})
        if overall:
            scores = overall.get("wrmsse", {})
            self.stdout.write(
                f"  backtest WRMSSE: chosen {scores.get('chosen')}, "
                f"mean of 13 weeks {scores.get('mean_13_weeks')}; "
                f"interval coverage {overall.get('interval_coverage')}"
            )
        self.stdout.write(self.style.SUCCESS("Done."))

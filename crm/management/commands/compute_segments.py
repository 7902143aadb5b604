import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from core.models import Job
from core.progress import add_wait_arguments, follow_job_for_command
from crm.models import SegmentRun
from crm.tasks.marketing import segments_enqueue


class Command(BaseCommand):
    help = (
        "Compute RFM groups and lifetime value for every customer in a worker. Prints the job id; with "
        "--wait, follows it and prints the fitted parameters and group sizes (exit 1 if it failed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="YYYY-MM-DD; default today, or the day after the latest order if the history ends before.",
        )
        add_wait_arguments(parser)

    def handle(self, *args, **options):
        job = segments_enqueue(as_of=options["as_of"])
        self.stdout.write(f"Queued segments job {job.pk}.")
        if not options["wait"]:
            return
        job = follow_job_for_command(job, options)
        if job.status == Job.Status.FAILED:
            raise CommandError(f"Segments job {job.pk} failed: {job.error}")
        run = SegmentRun.objects.get(pk=job.result["segment_run_id"])
        self._report(run)

    def _report(self, run: SegmentRun) -> None:
        self.stdout.write(f"Segment run {run.pk} as of {run.as_of}: {run.customer_count:,} customers")
        parameters = run.parameters or {}
        for model, names in (("bgnbd", ("r", "alpha", "a", "b")), ("gamma_gamma", ("p", "q", "v"))):
            if parameters.get(model):
                values = ", ".join(f"{name}={parameters[model][name]:.4g}" for name in names)
                self.stdout.write(f"  {model}: {values}")
        if "clv" in parameters:
            self.stdout.write(f"  lifetime value {parameters['clv']}")
        season = parameters.get("seasonal_correction")
        if season:
            factors = ", ".join(f"x{value} over {days} days" for days, value in season["factors"].items())
            self.stdout.write(f"  seasonal correction: {factors or 'none'} ({season['reason']})")
        for group, count in run.group_counts.items():
            self.stdout.write(f"  {group:<20} {count:>8,}")
        self.stdout.write(self.style.SUCCESS("Done."))

from django.core.management.base import BaseCommand, CommandError

from core.models import Job
from core.progress import add_wait_arguments, follow_job_for_command
from crm.models import Promotion
from crm.tasks.marketing import promotion_targets_enqueue


class Command(BaseCommand):
    help = (
        "Choose a promotion's audience and control group in a worker. Prints the job id; with --wait, "
        "follows it (exit 1 if it failed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("promotion", type=int, help="Promotion id.")
        add_wait_arguments(parser)

    def handle(self, *args, **options):
        promotion = Promotion.objects.filter(pk=options["promotion"]).first()
        if promotion is None:
            raise CommandError(f"No promotion {options['promotion']}.")
        job = promotion_targets_enqueue(promotion=promotion)
        self.stdout.write(f"Queued targets job {job.pk} for promotion {promotion.pk} ({promotion.name}).")
        if not options["wait"]:
            return
        job = follow_job_for_command(job, options)
        if job.status == Job.Status.FAILED:
            raise CommandError(f"Targets job {job.pk} failed: {job.error}")
        source = (
            f"model version {job.result['model_version_id']}"
            if job.result.get("model_version_id")
            else ("category purchase rates (no recommender served)")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{job.result['target']:,} targets and {job.result['control']:,} held out as control, "
                f"scored by {source}."
            )
        )

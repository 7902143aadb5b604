from django.core.management.base import BaseCommand, CommandError

from crm.management.progress import follow_job
from crm.models import Job, Promotion
from crm.services.promotions import promotion_targets_enqueue


class Command(BaseCommand):
    help = (
        "Choose a promotion's audience and control group in a worker. Prints the job id; with --wait, "
        "follows it (exit 1 if it failed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("promotion", type=int, help="Promotion id.")
        parser.add_argument("--wait", action="store_true", help="Wait for the job, with a progress bar.")
        parser.add_argument(
            "--timeout", type=float, default=None, help="Seconds to wait at most with --wait."
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        promotion = Promotion.objects.filter(pk=options["promotion"]).first()
        if promotion is None:
            raise CommandError(f"No promotion {options['promotion']}.")
        job = promotion_targets_enqueue(promotion=promotion)
        self.stdout.write(f"Queued targets job {job.pk} for promotion {promotion.pk} ({promotion.name}).")
        if not options["wait"]:
            return
        try:
            job = follow_job(job.pk, show_progress=not options["no_progress"], timeout=options["timeout"])
        except TimeoutError as exc:
            raise CommandError(str(exc)) from exc
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

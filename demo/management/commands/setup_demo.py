from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from core.models import Job
from crm.models import Order, SegmentRun
from crm.services.demo_setup import (
    demo_categories_assign,
    demo_customers_complete,
    demo_history_move_forward,
    demo_logins_ensure,
)
from crm.tasks.marketing import segments_enqueue
from recommender.models import ModelVersion
from recommender.tasks import training_enqueue

DEMO_DATA = Path(settings.BASE_DIR) / "data" / "online_retail_2010-12_2011-12.parquet"


class Command(BaseCommand):
    help = (
        "Prepare the demo: import the UCI Online Retail data if there are no orders yet, add demo categories "
        "and consent, create a staff and a shopper login, and queue a training and a segment run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", default=str(DEMO_DATA), help="UCI-layout file to import when empty.")
        parser.add_argument("--no-train", action="store_true", help="Do not queue a training run.")
        parser.add_argument(
            "--keep-dates",
            action="store_true",
            help="Keep the file's dates; by default the imported history is moved forward by whole weeks "
            "to end in the week before today, so that orders placed in the shop continue it.",
        )

    def handle(self, *args, **options):
        if not Order.objects.exists():
            self.stdout.write(f"Importing the demo data from {options['data']} ...")
            call_command(
                "import_orders", options["data"], file_format="uci", stdout=self.stdout, stderr=self.stderr
            )
            if not options["keep_dates"]:
                weeks = demo_history_move_forward(today=timezone.localdate())
                if weeks:
                    self.stdout.write(
                        f"Moved the history forward by {weeks:,} weeks: it now ends in the week before today."
                    )
        else:
            self.stdout.write("Orders are already loaded; skipping the import.")
        categorised = demo_categories_assign()
        completed = demo_customers_complete()
        if categorised or completed:
            self.stdout.write(
                f"Demo categories for {categorised:,} products; consent for {completed:,} customers."
            )

        if not options["no_train"]:
            self._queue_training()
        self._queue_segments()
        call_command("setup_inventory_demo", stdout=self.stdout, stderr=self.stderr)

        credentials = demo_logins_ensure()
        port = settings.DEMO_WEB_PORT
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo ready.\n"
                f"  Shop:         http://127.0.0.1:{port}/\n"
                f"  Staff portal: http://127.0.0.1:{port}/staff/\n"
                f"  API docs:     http://127.0.0.1:{port}/api/docs/\n"
                f"  Staff login:   {credentials['staff_username']} / {credentials['staff_password']}\n"
                + "".join(
                    f"  {role.capitalize()} login: {login['username']} / {login['password']}\n"
                    for role, login in credentials["role_logins"].items()
                )
                + f"  Shopper login: {credentials['shopper_username']} / {credentials['shopper_password']}"
                f"  (customer {credentials['shopper_customer']})\n"
                "  (kept in var/demo-credentials.json)"
            )
        )

    def _queue_training(self) -> None:
        if ModelVersion.objects.in_progress().exists() or ModelVersion.objects.active().exists():
            return
        job = training_enqueue()
        self.stdout.write(
            f"Queued training job {job.pk}: the worker trains and serves a model within a few minutes "
            "(progress on the staff dashboard)."
        )

    def _queue_segments(self) -> None:
        if (
            not SegmentRun.objects.exists()
            and not Job.objects.unfinished().filter(kind=Job.Kind.SEGMENTS).exists()
        ):
            job = segments_enqueue()
            self.stdout.write(f"Queued segment job {job.pk}.")

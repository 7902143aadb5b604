from django.core.management.base import BaseCommand

from core.models import Job
from inventory.models import ForecastRun, StockPolicy
from inventory.services.demo import demo_stock_seed
from inventory.tasks import forecast_enqueue


class Command(BaseCommand):
    help = (
        "Demo inventory (part of setup_demo): seeded stock and buying rules for every product when none "
        "are set yet, and a first forecast queued when there is none."
    )

    def handle(self, *args, **options):
        if not StockPolicy.objects.exists():
            report = demo_stock_seed()
            self.stdout.write(f"Demo stock: {report.summary()}")
        pending = Job.objects.unfinished().filter(kind=Job.Kind.FORECAST).exists()
        if not ForecastRun.objects.exists() and not pending:
            job = forecast_enqueue()
            self.stdout.write(f"Queued forecast job {job.pk}.")

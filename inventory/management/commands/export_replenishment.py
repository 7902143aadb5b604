from django.core.management.base import BaseCommand, CommandError

from core.command_output import command_output
from inventory.selectors import forecast_run_latest, replenishment_export_csv


class Command(BaseCommand):
    help = (
        "Write the reorder list as CSV product_id,on_hand,lead_time_days,reorder_point,safety_stock,"
        "stockout_date,order_quantity,on_order,name: every product of the latest forecast whose stock is "
        "tracked, soonest stock-out first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="CSV file to write ('-' for standard output).")

    def handle(self, *args, **options):
        run = forecast_run_latest()
        if run is None:
            raise CommandError("No forecast yet; run forecast_demand first.")
        with command_output(options["out"], stdout=self.stdout) as out:
            written = replenishment_export_csv(run=run, out=out)
        self.stderr.write(f"Wrote {written:,} products of forecast run {run.pk} (as of {run.as_of}).")

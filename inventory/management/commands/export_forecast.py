from django.core.management.base import BaseCommand, CommandError

from core.command_output import command_output
from inventory.selectors import FREQUENCIES, forecast_export_csv, forecast_run_latest


class Command(BaseCommand):
    help = (
        "Write the latest forecast run as CSV product_id,date,forecast,lower,upper: one row per product "
        "and day, or per 7-day bucket from the as-of date with --freq week."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="CSV file to write ('-' for standard output).")
        parser.add_argument("--freq", choices=sorted(FREQUENCIES), default="day")

    def handle(self, *args, **options):
        run = forecast_run_latest()
        if run is None:
            raise CommandError("No forecast yet; run forecast_demand first.")
        with command_output(options["out"], stdout=self.stdout) as out:
            written = forecast_export_csv(run=run, out=out, freq=options["freq"])
        self.stderr.write(f"Wrote {written:,} rows of forecast run {run.pk} (as of {run.as_of}).")

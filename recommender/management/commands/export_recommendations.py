import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommender.models import ModelVersion
from recommender.selectors import recommendation_export_rows


class Command(BaseCommand):
    help = "Write the served recommendations as CSV: customer_id,product_id,rank,score,reason (retailer ids)."

    def add_arguments(self, parser):
        parser.add_argument("--top", type=int, default=10, help="Recommendations per customer (default 10).")
        parser.add_argument("--out", required=True, help="CSV file to write.")
        parser.add_argument(
            "--model-version",
            type=int,
            default=None,
            metavar="ID",
            help="Export this model version instead of the served one (e.g. to compare before activating).",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        if options["top"] < 1:
            raise CommandError("--top must be at least 1.")
        if options["model_version"] is not None:
            version = ModelVersion.objects.filter(pk=options["model_version"]).first()
            if version is None:
                raise CommandError(f"There is no model version {options['model_version']}.")
        else:
            version = ModelVersion.objects.active().first()
            if version is None:
                raise CommandError("No model version is served yet: run train_recommender first.")
        out = Path(options["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        total = version.timings.get("scored_customers")
        written = 0
        with out.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["customer_id", "product_id", "rank", "score", "reason"])
            rows = recommendation_export_rows(model_version=version, top=options["top"])
            for row in tqdm(
                rows, disable=options["no_progress"], unit=" rows", total=total and total * options["top"]
            ):
                writer.writerow([row[0], row[1], row[2], f"{row[3]:.6f}", row[4]])
                written += 1
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {written:,} recommendations of model version {version.pk} to {out}")
        )

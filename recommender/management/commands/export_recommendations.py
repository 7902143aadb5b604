from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from crm.csv_safety import csv_safe_writer
from crm.models import AuditEvent
from crm.pseudonyms import pseudonymize
from crm.services.privacy import audit_record
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
        parser.add_argument(
            "--pseudonymize",
            action="store_true",
            help="Customers by keyed hash (PSEUDONYMIZATION_KEY), not by id; no names or e-mails.",
        )

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
            writer = csv_safe_writer(handle)
            writer.writerow(["customer_id", "product_id", "rank", "score", "reason"])
            rows = recommendation_export_rows(model_version=version, top=options["top"])
            for row in tqdm(
                rows, disable=options["no_progress"], unit=" rows", total=total and total * options["top"]
            ):
                customer_id = pseudonymize(row[0]) if options["pseudonymize"] else row[0]
                writer.writerow([customer_id, row[1], row[2], f"{row[3]:.6f}", row[4]])
                written += 1
        if not options["pseudonymize"]:
            audit_record(
                action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
                subject=f"export_recommendations of model version {version.pk} to {out}",
                via="command",
                detail={"rows": written},
            )
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {written:,} recommendations of model version {version.pk} to {out}")
        )

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from crm.models import AuditEvent
from crm.services.exporting import export_order_lines
from crm.services.privacy import audit_record


class Command(BaseCommand):
    help = "Export every order line in the canonical layout (CSV, or Parquet for a .parquet file)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--pseudonymize",
            action="store_true",
            help="Customers by keyed hash (PSEUDONYMIZATION_KEY), not by id; no names or e-mails.",
        )

    def handle(self, *args, out: Path, no_progress: bool, **options) -> None:
        show_progress = not no_progress and sys.stderr.isatty()
        with tqdm(total=100, unit="%", file=sys.stderr, disable=not show_progress) as bar:

            def progress(fraction: float, message: str = "") -> None:
                bar.n = round(fraction * 100, 1)
                bar.set_description(message, refresh=False)
                bar.refresh()

            try:
                written = export_order_lines(
                    path=out, progress=progress, pseudonymized=options["pseudonymize"]
                )
            except ValueError as error:
                raise CommandError(str(error)) from error
        if not options["pseudonymize"]:
            audit_record(
                action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
                subject=f"export_orders to {out}",
                via="command",
                detail={"rows": written},
            )
        self.stdout.write(f"{written} order lines written to {out}")

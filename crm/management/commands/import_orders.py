import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from crm.services.importing import LAYOUTS, ImportValidationError, import_order_file


class Command(BaseCommand):
    help = "Import order history from a CSV, XLSX or Parquet file (canonical or UCI Online Retail layout)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", dest="file_format", choices=LAYOUTS, default="auto")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the good rows and reject the bad ones."
        )
        parser.add_argument("--rejects", type=Path, help="CSV file for rejected rows, with their reason.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self, *args, path: Path, file_format: str, skip_invalid: bool, rejects, no_progress, **options
    ) -> None:
        show_progress = not no_progress and sys.stderr.isatty()
        with tqdm(total=100, unit="%", file=sys.stderr, disable=not show_progress) as bar:

            def progress(fraction: float, message: str = "") -> None:
                bar.n = round(fraction * 100, 1)
                bar.set_description(message, refresh=False)
                bar.refresh()

            try:
                report = import_order_file(
                    path=path,
                    file_format=file_format,
                    skip_invalid=skip_invalid,
                    rejects_path=rejects,
                    progress=progress,
                )
            except ImportValidationError as error:
                lines = [f"{error.source}: {error.problem()}, nothing imported"]
                lines += [f"  {row_error}" for row_error in error.errors[:20]]
                raise CommandError("\n".join(lines)) from error
        for line in report.summary_lines():
            self.stdout.write(line)
        for row_error in report.errors[:20]:
            self.stderr.write(f"  rejected {row_error}")

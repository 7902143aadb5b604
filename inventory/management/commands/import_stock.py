from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.services.importing import ImportValidationError
from inventory.services.stock import stock_import_file


class Command(BaseCommand):
    help = (
        "Import stock levels and buying rules from a CSV with product_id and any of on_hand, "
        "lead_time_days, min_order_qty, pack_size, on_order (units ordered, not yet received; empty: 0). "
        "A file with a bad row changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, **options):
        try:
            report = stock_import_file(path=options["path"])
        except ImportValidationError as error:
            for row_error in error.errors:
                self.stderr.write(str(row_error))
            count = error.error_count
            raise CommandError(f"{count:,} error{'s' if count != 1 else ''}; nothing imported.") from error
        self.stdout.write(self.style.SUCCESS(report.summary()))

"""Time a first import and a re-import of an order file; prints wall time and peak RSS of each.

    DATABASE_URL=... .venv/bin/python bench/bench_import.py [PATH] [--flush]

Runs against the database of DATABASE_URL; ``--flush`` empties the order tables first so the first
run is a true first import. Never point it at a database whose orders you want to keep.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the project's copy (data/README.md says where it comes from), so a fresh clone runs the bench as it is
DEFAULT_PATH = ROOT / "data" / "online_retail_2010-12_2011-12.parquet"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument(
        "--flush", action="store_true", help="delete orders, lines, products, customers first"
    )
    parser.add_argument("--runs", type=int, default=2, help="1 = first import only, 2 = and a re-import")
    arguments = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")
    import django

    django.setup()
    from django.db import connection

    from crm.models import Category, Customer, Order, OrderLine, Product
    from crm.services.importing import import_order_file

    if arguments.flush:
        for model in (OrderLine, Order, Product, Category, Customer):
            model.objects.all().delete()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; file: {arguments.path}")
    for run in range(arguments.runs):
        started = time.perf_counter()
        report = import_order_file(path=arguments.path)
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        label = "first import" if arguments.flush and run == 0 else "re-import"
        print(
            f"{label}: {seconds:.1f} s wall, peak RSS {peak_mb:.0f} MB, rows {report.rows_imported}, "
            f"created {report.created}, updated {report.updated}"
        )
        for line in report.summary_lines()[1:]:
            print(line)


if __name__ == "__main__":
    main()

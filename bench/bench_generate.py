"""Time synthetic data generation at a given size: wall time, order lines per second, peak memory.

Writes into the database named by DATABASE_URL (migrating it first), replacing its synthetic rows:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb .venv/bin/python bench/bench_generate.py \\
        --customers 100000 --products 10000 --orders 100000
"""

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--lines-per-order", type=float, default=10.0)
    parser.add_argument("--events-per-customer", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--months", type=int, default=24)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from crm.services.demo_data import generate_demo_data, synthetic_data_delete

    call_command("migrate", verbosity=0)
    rss_before = _peak_rss_mib()
    started = time.perf_counter()
    synthetic_data_delete()
    delete_seconds = time.perf_counter() - started

    started = time.perf_counter()
    counts = generate_demo_data(
        customers=arguments.customers,
        products=arguments.products,
        orders=arguments.orders,
        seed=arguments.seed,
        start=dt.date(2023, 1, 1),
        months=arguments.months,
        lines_per_order=arguments.lines_per_order,
        events_per_customer=arguments.events_per_customer,
    )
    seconds = time.perf_counter() - started

    print(f"database          {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"python            {platform.python_version()}, {os.cpu_count()} CPUs")
    print("counts            " + ", ".join(f"{kind}={count:,}" for kind, count in counts.items()))
    print(f"earlier deleted   {delete_seconds:.1f} s")
    print(f"wall time         {seconds:.1f} s")
    print(f"order lines / s   {counts['order_lines'] / seconds:,.0f}")
    print(f"peak RSS          {_peak_rss_mib():,.0f} MiB (after Django setup: {rss_before:,.0f} MiB)")


if __name__ == "__main__":
    main()

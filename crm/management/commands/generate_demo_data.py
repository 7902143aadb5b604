import argparse
import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from crm.services.demo_data import DemoDataError, generate_demo_data


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"must be a date like 2023-01-01, got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Fill the CRM with synthetic retail data (ids prefixed SYN-): a category tree, products, "
        "customers, orders with returns and behaviour events. Order lines come to about "
        "orders x --lines-per-order."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument("--products", type=int, required=True, help="At least 10.")
        parser.add_argument("--orders", type=int, required=True, help="All orders, return orders included.")
        parser.add_argument("--seed", type=int, required=True, help="Same seed and sizes, same rows.")
        parser.add_argument("--start", type=_date, default=dt.date(2023, 1, 1), help="First day of orders.")
        parser.add_argument("--months", type=int, default=24, help="Length of the order window.")
        parser.add_argument("--lines-per-order", type=float, default=10.0, help="Mean lines per order.")
        parser.add_argument("--events-per-customer", type=float, default=2.0, help="Mean behaviour events.")
        parser.add_argument("--replace", action="store_true", help="Delete earlier synthetic rows first.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        with tqdm(total=100, unit="%", disable=options["no_progress"]) as bar:

            def progress(fraction: float, message: str = "") -> None:
                bar.update(round(fraction * 100) - bar.n)
                if message:
                    bar.set_description(message)

            try:
                counts = generate_demo_data(
                    customers=options["customers"],
                    products=options["products"],
                    orders=options["orders"],
                    seed=options["seed"],
                    start=options["start"],
                    months=options["months"],
                    lines_per_order=options["lines_per_order"],
                    events_per_customer=options["events_per_customer"],
                    replace=options["replace"],
                    progress=progress,
                )
            except DemoDataError as exc:
                raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {counts['products']:,} products in {counts['categories']:,} new categories, "
                f"{counts['customers']:,} customers, {counts['orders']:,} orders "
                f"({counts['return_orders']:,} returns, {counts['guest_orders']:,} guest orders), "
                f"{counts['order_lines']:,} order lines ({counts['returned_lines']:,} returned) and "
                f"{counts['events']:,} behaviour events in {seconds:.1f} s."
            )
        )

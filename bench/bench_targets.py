"""Speed of promotion targeting over 100,000 consenting customers, on the configured database.

Writes synthetic customers, a promoted category and order history (external ids prefixed BENCH-T-),
times ``promotion_compute_targets`` and removes what it wrote. Without a served recommender version the
score is the category purchase rate (the documented fallback), which is what this measures.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_targets.py [--customers N] [--write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.bulk import bulk_insert_rows  # noqa: E402
from crm.models import Category, Customer, Order, OrderLine, Product, Promotion  # noqa: E402
from crm.services.promotions import promotion_compute_targets, promotion_create  # noqa: E402

PREFIX = "BENCH-T-"
SECTION = "## Promotion targeting"


def build(customers: int, seed: int = 0) -> tuple[Category, list[int]]:
    rng = np.random.default_rng(seed)
    now = timezone.now()
    category = Category.objects.create(name="Bench mugs", path=f"{PREFIX}mugs")
    other = Category.objects.create(name="Bench tea", path=f"{PREFIX}tea")
    products = [
        Product.objects.create(external_id=f"{PREFIX}P{i}", name=f"Mug {i}", category=category, price=9 + i)
        for i in range(5)
    ] + [
        Product.objects.create(external_id=f"{PREFIX}Q{i}", name=f"Tea {i}", category=other, price=4)
        for i in range(5)
    ]
    with transaction.atomic():
        bulk_insert_rows(
            Customer,
            ("external_id", "name", "email", "country", "email_opt_in", "created_at", "updated_at"),
            (
                (f"{PREFIX}{i}", "", f"c{i}@example.com", "United Kingdom", True, now, now)
                for i in range(customers)
            ),
        )
    ids = np.fromiter(
        Customer.objects.filter(external_id__startswith=PREFIX).values_list("pk", flat=True), dtype="int64"
    )
    buyers = rng.choice(ids, size=customers * 2)
    with transaction.atomic():
        bulk_insert_rows(
            Order,
            ("external_id", "customer_id", "placed_at", "channel", "status", "country", "created_at"),
            (
                (f"{PREFIX}O{i}", int(c), now - dt.timedelta(days=int(d)), "web", "completed", "", now)
                for i, (c, d) in enumerate(zip(buyers, rng.integers(1, 400, size=len(buyers)), strict=True))
            ),
        )
    orders = list(Order.objects.filter(external_id__startswith=PREFIX).values_list("pk", flat=True))
    choice = rng.integers(0, len(products), size=len(orders))
    with transaction.atomic():
        bulk_insert_rows(
            OrderLine,
            (
                "order_id",
                "line_number",
                "product_id",
                "item_code",
                "item_name",
                "quantity",
                "unit_price",
                "discount",
            ),
            (
                (order, 1, products[k].pk, products[k].external_id, "", 1, products[k].price, 0)
                for order, k in zip(orders, choice.tolist(), strict=True)
            ),
        )
    return category, ids.tolist()


def clean() -> None:
    Promotion.objects.filter(name__startswith=PREFIX).delete()
    OrderLine.objects.filter(order__external_id__startswith=PREFIX).delete()
    Order.objects.filter(external_id__startswith=PREFIX).delete()
    Customer.objects.filter(external_id__startswith=PREFIX).delete()
    Product.objects.filter(external_id__startswith=PREFIX).delete()
    Category.objects.filter(path__startswith=PREFIX).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    clean()
    try:
        build_started = time.monotonic()
        category, _ = build(args.customers)
        build_seconds = time.monotonic() - build_started
        consenting = Customer.objects.consenting().count()
        promotion = promotion_create(
            name=f"{PREFIX}mugs",
            category_id=category.pk,
            discount_percent=20,
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + dt.timedelta(days=14),
            audience_size=min(20_000, consenting),
            control_share=0.1,
        )
        started = time.monotonic()
        promotion = promotion_compute_targets(promotion=promotion)
        seconds = time.monotonic() - started
        targets = promotion.targets.count()
    finally:
        clean()
    body = [
        f"`promotion_compute_targets` over {consenting:,} consenting customers "
        f"({args.customers * 2:,} orders "
        f"of history, a 5-product category promoted, audience {targets:,} with a 10% control group), "
        f"{connection.vendor}: **{seconds:.1f} s** (score = category purchase rate, no recommender served; "
        f"building the data took {build_seconds:.0f} s and is not counted).",
        "",
        f"Command: `DATABASE_URL=postgres://... .venv/bin/python bench/bench_targets.py --write`. "
        f"Machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}, "
        "shared 2-core container.",
    ]
    print("\n".join(body))
    if args.write:
        from bench_sections import replace_section

        replace_section(ROOT / "BENCHMARKS.md", SECTION, body)


if __name__ == "__main__":
    main()

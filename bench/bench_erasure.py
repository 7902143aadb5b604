"""Time the erasure of one customer with many orders on a large shop (the right to be forgotten).

Needs a shop in the database named by DATABASE_URL, e.g. the 100k-customer synthetic one:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb .venv/bin/python bench/bench_generate.py \\
        --customers 100000 --products 10000 --orders 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb .venv/bin/python bench/bench_erasure.py \\
        --orders 200 --repeat 5

Each repeat adds one customer with ``--orders`` orders (10 lines each), 50 behaviour events, a note, a
segment row, consent history and a login, then erases them with ``customer_erase``.
Before the repeats it writes one model artifact whose History holds every customer of the shop (built
from the database with ``recommender.ml``'s own code, no network: erasure rewrites the History only), so
each erasure also rewrites a full-size artifact, as it would with a trained model on disk. Artifacts go
to a temporary folder, never to MODEL_ARTIFACT_ROOT.
"""

import argparse
import datetime as dt
import os
import pickle
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")

LINES_PER_ORDER = 10


def _bench_customer(number: int, orders: int, products: list[int], run):
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from crm.models import BehaviourEvent, Customer, CustomerNote, CustomerSegment, Order, OrderLine
    from crm.services.privacy import consent_set

    user = get_user_model().objects.create_user(f"bench-erase-{number}", f"bench{number}@example.test", "x")
    customer = Customer.objects.create(
        external_id=f"BENCH-ERASE-{number}", name=f"Bench Person {number}", email=user.email, user=user
    )
    now = timezone.now()
    placed = Order.objects.bulk_create(
        Order(
            external_id=f"BENCH-ERASE-{number}-{index}",
            customer=customer,
            placed_at=now - dt.timedelta(days=3 * index),
        )
        for index in range(orders)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_number=line + 1,
            product_id=products[(index * LINES_PER_ORDER + line) % len(products)],
            item_code="BENCH",
            quantity=1,
            unit_price=Decimal("2.50"),
        )
        for index, order in enumerate(placed)
        for line in range(LINES_PER_ORDER)
    )
    BehaviourEvent.objects.bulk_create(
        BehaviourEvent(customer=customer, product_id=products[index], kind="view", at=now)
        for index in range(50)
    )
    CustomerNote.objects.create(customer=customer, body=f"Called {customer.name}.")
    consent_set(customer=customer, channel="email", granted=True, source="staff")
    CustomerSegment.objects.create(
        run=run,
        customer=customer,
        recency_days=1,
        frequency=orders,
        monetary=orders * 25.0,
        r_score=5,
        f_score=5,
        m_score=5,
        rfm_group="champions",
    )
    return customer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()

    import django

    django.setup()
    import numpy as np
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from crm.models import Customer, Order, OrderLine, Product, SegmentRun
    from crm.services.privacy import customer_erase
    from recommender.ml.data import check_customers, check_events, check_products, clean_order_lines
    from recommender.ml.features import build_history
    from recommender.services import frames

    customers = Customer.objects.count()
    if customers < 1000:
        raise SystemExit("Generate a shop first (bench/bench_generate.py); this database has no customers.")
    products = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:2000])
    run = SegmentRun.objects.create(as_of=timezone.localdate())
    people = [_bench_customer(number, arguments.orders, products, run) for number in range(arguments.repeat)]

    started = time.perf_counter()
    lines = clean_order_lines(frames.order_line_frame())
    history = build_history(
        order_lines=lines,
        products=check_products(frames.product_frame(), lines),
        customers=check_customers(frames.customer_frame(), lines),
        events=check_events(frames.event_frame()),
        cutoff=np.datetime64(timezone.now().replace(tzinfo=None), "ns"),
    )
    artifact_root = Path(tempfile.mkdtemp(prefix="bench-erasure-"))
    (artifact_root / "v00001").mkdir()
    with open(artifact_root / "v00001" / "history.pkl", "wb") as file:
        pickle.dump(history, file, protocol=pickle.HIGHEST_PROTOCOL)
    artifact_mib = (artifact_root / "v00001" / "history.pkl").stat().st_size / 2**20
    build_seconds = time.perf_counter() - started
    settings.MODEL_ARTIFACT_ROOT = artifact_root

    revenue_lines = OrderLine.objects.count()
    timings = []
    for person in people:
        started = time.perf_counter()
        outcome = customer_erase(customer=person, via="command")
        timings.append(time.perf_counter() - started)
        assert outcome.record.counts["orders_kept"] == arguments.orders
        assert outcome.record.counts["recommender_artifacts_rewritten"] == 1
    assert OrderLine.objects.count() == revenue_lines

    print(f"database          {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"python            {platform.python_version()}, {os.cpu_count()} CPUs")
    print(
        f"shop              {customers:,} customers, {Order.objects.count():,} orders, "
        f"{revenue_lines:,} lines"
    )
    print(
        f"artifact          History of {history.n_customers:,} customers, {artifact_mib:.1f} MiB "
        f"(built in {build_seconds:.1f} s)"
    )
    print(
        f"per erasure       {arguments.orders} orders x {LINES_PER_ORDER} lines, 50 events, "
        "login, note, segment"
    )
    print("erasure seconds   " + ", ".join(f"{seconds:.2f}" for seconds in timings))
    print(f"median / min      {statistics.median(timings):.2f} s / {min(timings):.2f} s")


if __name__ == "__main__":
    main()

"""The recommendations read in one process: ms per request of ``GET /api/customers/{id}/recommendations/``.

Needs a database with the demo loaded and a version served, and the login ``bench-staff`` that
``bench/bench_api.py`` makes. 400 customers, 8 rounds, the fastest and the median round (the fastest is
the one least disturbed by other work on a shared machine). ``--active`` measures again after every one
of those customers viewed a product a minute ago (then deletes those views). To compare with an
older version, run this same file from a checkout of it:

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_read_path.py [--active] [--superuser]
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")
os.environ["DEBUG"] = "false"
os.environ["API_THROTTLE_USER"] = "100000000/hour"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--active", action="store_true", help="also with every customer active a minute ago")
    parser.add_argument("--superuser", action="store_true", help="the login skips the role permission check")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from rest_framework.test import APIClient

    from crm.models import BehaviourEvent, Customer
    from crm.services.api_tokens import api_token_create
    from recommender.models import ModelVersion, ProductNeighbour, Recommendation

    version = ModelVersion.objects.active().first()
    if version is None:
        sys.exit("No model version is served in this database: train one first.")
    # customers with no events in the real-time window (another bench's probes may have left some)
    window = timezone.now() - dt.timedelta(
        minutes=getattr(settings, "RECOMMENDER_REALTIME_WINDOW_MINUTES", 60)
    )
    external_ids = list(
        Recommendation.objects.filter(model_version=version, rank=1)
        .exclude(customer__events__at__gte=window)
        .values_list("customer__external_id", flat=True)[:400]
    )
    user = get_user_model().objects.get(username="bench-staff")
    user.is_superuser = args.superuser
    user.save(update_fields=["is_superuser"])
    _, token = api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def one_round() -> float:
        started = time.perf_counter()
        for external_id in external_ids:
            response = client.get(f"/api/customers/{external_id}/recommendations/", HTTP_HOST="127.0.0.1")
            assert response.status_code == 200, response.status_code
        return (time.perf_counter() - started) / len(external_ids) * 1000

    def measure(label: str) -> None:
        one_round()
        rounds = [one_round() for _ in range(8)]
        print(f"| {label} | {min(rounds):.2f} ms | {statistics.median(rounds):.2f} ms |")

    measure("no recent activity")
    if args.active:
        products = list(
            ProductNeighbour.objects.filter(model_version=version, rank=1).values_list(
                "product_id", flat=True
            )[:500]
        )
        customers = Customer.objects.filter(external_id__in=external_ids).values_list("pk", flat=True)
        viewed_at = timezone.now() - dt.timedelta(minutes=1)
        views = BehaviourEvent.objects.bulk_create(
            BehaviourEvent(
                customer_id=pk, product_id=products[index % len(products)], kind="view", at=viewed_at
            )
            for index, pk in enumerate(customers)
        )
        try:
            measure("every customer viewed a product a minute ago")
        finally:
            BehaviourEvent.objects.filter(pk__in=[view.pk for view in views]).delete()


if __name__ == "__main__":
    main()

"""The audit trail's cost on the customer 360 page: the page with and without its audit write.

Needs a database with the demo loaded and a version served (as ``bench/bench_api.py``) and the login
``bench-staff`` that bench makes. Renders the page for 150 customers in one process (DEBUG off), in three
rounds that alternate with and without the audit write, and prints the medians:

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_audit_cost.py
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")
os.environ["DEBUG"] = "false"


def main() -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    import portal.customers.views as views
    from recommender.models import ModelVersion, Recommendation

    version = ModelVersion.objects.active().first()
    if version is None:
        sys.exit("No model version is served in this database: train one first.")
    customer_ids = list(
        Recommendation.objects.filter(model_version=version, rank=1).values_list("customer_id", flat=True)[
            :150
        ]
    )
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-staff"))
    audit_record = views.audit_record

    def pages() -> tuple[float, float]:
        times = []
        for customer_id in customer_ids:
            started = time.perf_counter()
            response = client.get(f"/staff/customers/{customer_id}/", HTTP_HOST="127.0.0.1")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        times.sort()
        return statistics.median(times), times[int(0.95 * (len(times) - 1))]

    measured: dict[str, list[tuple[float, float]]] = {"with the audit write": [], "without": []}
    for _ in range(3):
        views.audit_record = audit_record
        measured["with the audit write"].append(pages())
        views.audit_record = lambda **kwargs: None
        measured["without"].append(pages())
    views.audit_record = audit_record
    for label, rounds in measured.items():
        p50 = statistics.median(p50 for p50, _ in rounds)
        p95 = statistics.median(p95 for _, p95 in rounds)
        print(f"| customer 360 page, {label} | {p50:.1f} ms | {p95:.1f} ms |")


if __name__ == "__main__":
    main()

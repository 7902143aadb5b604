"""Serving speed under gunicorn: GET /api/customers/{id}/recommendations/ and the staff customer 360 page.

Two loads on the API, each from a second process: locust with 50 clients offering a fixed rate (300
requests/s by default: does the service hold that rate, and at what latency?), and wrk with 50
connections that send the next request as soon as the last is answered (how many requests/s at most?).
Then the customer 360 page, sequentially, for p50/p95.

With ``--probes N``, while the offered load runs, N times: a customer views a product (``POST
/api/ingest/events/``) whose "bought together" neighbour is not in their list, and their list is read
every 10 ms until it shows the change: the event-to-changed-list latency. With ``--recent-activity``
every customer of the load viewed a product a minute ago, so each request re-ranks (the read path's
cost when every shopper is active; without it, only the probes' customers are).

Needs a database with the demo loaded and a model served (``make setup`` then ``train_recommender --wait``,
or a finished ``make run``), locust (``make bench-tools``) and wrk (``apt-get install wrk``). Example:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_crm .venv/bin/python bench/bench_api.py
"""

import argparse
import csv
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")


def setup_django():
    import django

    django.setup()


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"Nothing answers on port {port}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections and locust clients")
    parser.add_argument("--rate", type=float, default=300, help="requests/s the locust clients offer")
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--pages", type=int, default=200, help="customer 360 requests")
    parser.add_argument("--probes", type=int, default=0, help="event-to-changed-list probes under load")
    parser.add_argument(
        "--recent-activity", action="store_true", help="every customer of the load viewed a product just now"
    )
    parser.add_argument(
        "--superuser",
        action="store_true",
        help="the load's login is a superuser, which skips the role permission check (its share of the cost)",
    )
    args = parser.parse_args()

    setup_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from core.roles import DATA_ADMIN, MARKETING
    from crm.services.api_tokens import api_token_create
    from recommender.models import ModelVersion, Recommendation

    version = ModelVersion.objects.active().first()
    if version is None:
        sys.exit("No model version is served in this database: train one first.")
    customers = list(
        Recommendation.objects.filter(model_version=version, rank=1)
        .order_by("customer_id")
        .values_list("customer_id", "customer__external_id")[:2000]
    )
    password = secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    user.is_staff = True
    user.is_superuser = args.superuser  # a superuser skips the permission check the other logins pay for
    user.set_password(password)
    user.save()
    # Any customer's recommendations and 360 page need a role that sees customers; the probes ingest
    # events, which the data admin does.
    user.groups.set(Group.objects.filter(name__in=[MARKETING, DATA_ADMIN]))
    _, token_key = api_token_create(user=user)
    probes = probe_plan(version, customers, args.probes)
    from crm.models import BehaviourEvent

    # Events this run writes (probes, --recent-activity) are deleted at its end: the next run, and the
    # wrk load after the probes, read lists of customers with no recent activity unless asked otherwise.
    last_event_before = BehaviourEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if args.recent_activity:
        recent_activity_give(version, [customer_id for customer_id, _ in customers])

    env = {**os.environ, "DEBUG": "false", "API_THROTTLE_USER": "100000000/hour"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "retail_site.wsgi",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--preload",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for_port(args.port)
        base = f"http://127.0.0.1:{args.port}"
        requests.get(
            f"{base}/api/customers/{customers[0][1]}/recommendations/",
            headers={"Authorization": f"Token {token_key}"},
            timeout=30,
        ).raise_for_status()

        paths = [f"/api/customers/{external}/recommendations/" for _, external in customers]
        prober = EventProbes(base, token_key, probes, spread=args.duration * 0.8)
        prober.start()
        held = offered_load(base, token_key, paths, args)
        prober.join()
        if not args.recent_activity:
            BehaviourEvent.objects.filter(pk__gt=last_event_before).delete()
        saturated = closed_loop_load(base, token_key, paths, args)

        session = requests.Session()
        page = session.get(f"{base}/accounts/login/", timeout=30)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        session.post(
            f"{base}/accounts/login/",
            data={"username": user.username, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/accounts/login/"},
            timeout=30,
        )
        timings = []
        for index in range(args.pages):
            customer_id = customers[index % len(customers)][0]
            started = time.perf_counter()
            response = session.get(f"{base}/staff/customers/{customer_id}/", timeout=30)
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        print("| measure | value |")
        print("|---|---|")
        print(
            f"| recommendations API, {args.connections} locust clients offering {args.rate:,.0f} requests/s "
            f"for {args.duration} s: served | {held['rps']:,.0f} requests/s, {held['failures']} failed |"
        )
        print(
            "| the same, latency p50 / p95 / p99 / max | "
            f"{held['p50']:.0f} / {held['p95']:.0f} / {held['p99']:.0f} / {held['max']:.0f} ms |"
        )
        print(
            f"| recommendations API, wrk {args.connections} connections back to back for {args.duration} s: "
            f"most requests/s | {saturated['rps']:,.0f} ({saturated['errors']} non-2xx) |"
        )
        print(f"| the same, latency p50 / p99 | {saturated['p50']:.0f} / {saturated['p99']:.0f} ms |")
        if prober.latencies:
            print(
                f"| event to changed list under the offered load, p50 / p95 / max ({len(prober.latencies)} "
                f"probes, {prober.missed} unchanged after 10 s) | {percentile(prober.latencies, 0.5):.0f} / "
                f"{percentile(prober.latencies, 0.95):.0f} / {max(prober.latencies):.0f} ms |"
            )
        print(
            f"| customer 360 page, p50 / p95 ({args.pages} sequential requests) | "
            f"{percentile(timings, 0.5):.1f} ms / {percentile(timings, 0.95):.1f} ms |"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        BehaviourEvent.objects.filter(pk__gt=last_event_before).delete()


def probe_plan(version, customers: list[tuple[int, str]], count: int) -> list[tuple[str, str]]:
    """(customer id, product id) pairs, retailer's ids: the product's best "bought together" neighbour
    is not in the customer's top 10, and the customer did nothing recently, so a view must change the
    list. The last customers of the load, one probe each."""
    from django.db.models import Q

    from crm.models import BehaviourEvent
    from recommender.models import ProductNeighbour, Recommendation

    plan: list[tuple[str, str]] = []
    first_neighbours = list(
        ProductNeighbour.objects.filter(model_version=version, rank=1)
        .order_by("product_id")
        .values_list("product_id", "product__external_id", "neighbour_id")
    )
    for customer_id, external_id in reversed(customers):
        if len(plan) >= count:
            break
        if BehaviourEvent.objects.filter(Q(customer_id=customer_id)).exists():
            continue
        listed = set(
            Recommendation.objects.filter(
                model_version=version, customer_id=customer_id, rank__lte=10
            ).values_list("product_id", flat=True)
        )
        for product_id, product_external_id, neighbour_id in first_neighbours[len(plan) :: 7]:
            if product_id not in listed and neighbour_id not in listed:
                plan.append((external_id, product_external_id))
                break
    return plan


def recent_activity_give(version, customer_ids: list[int]) -> None:
    """Each customer viewed a product with neighbours a minute ago."""
    import datetime as dt

    from django.utils import timezone

    from crm.models import BehaviourEvent
    from recommender.models import ProductNeighbour

    products = list(
        ProductNeighbour.objects.filter(model_version=version, rank=1).values_list("product_id", flat=True)[
            :500
        ]
    )
    at = timezone.now() - dt.timedelta(minutes=1)
    BehaviourEvent.objects.bulk_create(
        BehaviourEvent(
            customer_id=customer_id, product_id=products[index % len(products)], kind="view", at=at
        )
        for index, customer_id in enumerate(customer_ids)
    )


class EventProbes(threading.Thread):
    """Views sent while the load runs, each followed by reads of the list until it changes."""

    def __init__(self, base: str, token: str, plan: list[tuple[str, str]], *, spread: float) -> None:
        super().__init__(daemon=True)
        self.base, self.plan, self.spread = base, plan, spread
        self.headers = {"Authorization": f"Token {token}"}
        self.latencies: list[float] = []
        self.missed = 0

    def run(self) -> None:
        import datetime as dt

        if not self.plan:
            return
        session = requests.Session()
        time.sleep(min(5.0, self.spread / 4))  # the load is up
        gap = self.spread / len(self.plan)
        for customer_id, product_id in self.plan:
            url = f"{self.base}/api/customers/{customer_id}/recommendations/?limit=10"
            before = [
                row["product"]["external_id"]
                for row in session.get(url, headers=self.headers).json()["results"]
            ]
            event = {
                "customer_id": customer_id,
                "product_id": product_id,
                "kind": "view",
                "at": dt.datetime.now(dt.UTC).isoformat(),
            }
            started = time.perf_counter()
            session.post(
                f"{self.base}/api/ingest/events/", json=[event], headers=self.headers
            ).raise_for_status()
            while time.perf_counter() - started < 10:
                now = [
                    row["product"]["external_id"]
                    for row in session.get(url, headers=self.headers).json()["results"]
                ]
                if now != before:
                    self.latencies.append((time.perf_counter() - started) * 1000)
                    break
                time.sleep(0.01)
            else:
                self.missed += 1
            time.sleep(max(0.0, gap - (time.perf_counter() - started)))


def _wrk_ms(text: str, label: str) -> float:
    match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", text)
    return float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[match.group(2)]


def closed_loop_load(base: str, token: str, paths: list[str], args) -> dict:
    """wrk: every connection sends its next request when the last one is answered."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        listed = ",".join(f'"{path}"' for path in paths)
        script.write(
            f"paths = {{{listed}}}\n"
            "counter = 0\n"
            f'wrk.headers["Authorization"] = "Token {token}"\n'
            "request = function()\n"
            "  counter = counter + 1\n"
            "  return wrk.format(nil, paths[(counter % #paths) + 1])\n"
            "end\n"
        )
    command = [
        "wrk",
        "-t2",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        script.name,
        base,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    print(output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _wrk_ms(output, "50%"),
        "p99": _wrk_ms(output, "99%"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def offered_load(base: str, token: str, paths: list[str], args) -> dict:
    """locust: ``args.connections`` clients, each at ``args.rate / args.connections`` requests/s."""
    locust = ROOT / ".venv-bench" / "bin" / "locust"
    if not locust.exists():
        sys.exit("locust is not installed: run `make bench-tools` first.")
    with tempfile.TemporaryDirectory() as folder:
        listed = Path(folder) / "paths.txt"
        listed.write_text("\n".join(paths))
        env = {
            **os.environ,
            "LOAD_TOKEN": token,
            "LOAD_PATHS": str(listed),
            "LOAD_RATE_PER_USER": str(args.rate / args.connections),
        }
        command = [
            str(locust), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--only-summary",
            "-u", str(args.connections), "-r", str(args.connections), "-t", f"{args.duration}s",
            "--reset-stats", "--host", base, "--csv", str(Path(folder) / "load"),
        ]  # fmt: skip
        subprocess.run(command, env=env, check=True, capture_output=True)
        with open(Path(folder) / "load_stats.csv", newline="") as stats:
            total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    print(
        {
            key: total[key]
            for key in ("Request Count", "Failure Count", "Requests/s", "50%", "95%", "99%", "100%")
        }
    )
    return {
        "rps": float(total["Requests/s"]),
        "failures": int(total["Failure Count"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
        "max": float(total["100%"]),
    }


if __name__ == "__main__":
    main()

"""Serving speed under gunicorn: GET /api/customers/{id}/recommendations/ with wrk (50 connections),
and the staff customer 360 page, sequentially, for p50/p95.

Needs a database with the demo loaded and a model served (``make setup`` then ``train_recommender --wait``,
or a finished ``make run``), and wrk (``apt-get install wrk``). Example:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retail_crm .venv/bin/python bench/bench_api.py
"""

import argparse
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
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
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--pages", type=int, default=200, help="customer 360 requests")
    args = parser.parse_args()

    setup_django()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

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
    user.set_password(password)
    user.save()
    token, _ = Token.objects.get_or_create(user=user)

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
            headers={"Authorization": f"Token {token.key}"},
            timeout=30,
        ).raise_for_status()

        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            paths = ",".join(f'"/api/customers/{external}/recommendations/"' for _, external in customers)
            script.write(
                f"paths = {{{paths}}}\n"
                "counter = 0\n"
                f'wrk.headers["Authorization"] = "Token {token.key}"\n'
                "request = function()\n"
                "  counter = counter + 1\n"
                "  return wrk.format(nil, paths[(counter % #paths) + 1])\n"
                "end\n"
            )
        result = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        print(result.stdout)
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", result.stdout)
        p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)

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
        label = f"recommendations API, requests/s ({args.connections} connections, {args.duration} s)"
        print(f"| {label} | {rps:,.0f} |")
        print(f"| recommendations API, p99 latency | {p99_ms:.1f} ms |")
        print(f"| recommendations API, non-2xx responses | {errors.group(1) if errors else 0} |")
        print(
            f"| customer 360 page, p50 / p95 ({args.pages} sequential requests) | "
            f"{percentile(timings, 0.5):.1f} ms / {percentile(timings, 0.95):.1f} ms |"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

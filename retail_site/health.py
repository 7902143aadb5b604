"""Probes for load balancers and orchestrators.

``/healthz``: the process answers (liveness; touches nothing else, so a database outage does not get
every web process restarted). ``/readyz``: this process can serve (readiness): the database, the broker
and the cache answer, and it says which model version is served, or that none is yet (that is not a
failure: the shop then shows popular products).
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from retail_site.celery import app as celery_app

# Seconds each dependency gets to answer before it counts as down.
PROBE_TIMEOUT = 2.0


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _broker() -> dict:
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT)
        return {"broker": broker.as_uri()}  # the password, if any, is masked


def _cache() -> dict:
    key = "readyz:probe"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return what was written")
    return {"backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def _served_model() -> dict:
    from recommender.models import ModelVersion

    served = ModelVersion.objects.active().values("pk", "activated_at").first()
    if served is None:
        return {
            "served_version": None,
            "detail": "none yet: shoppers see the bestsellers of the last 90 days until one is trained",
        }
    return {"served_version": served["pk"], "activated_at": served["activated_at"]}


CHECKS: dict[str, Callable[[], dict]] = {"database": _database, "broker": _broker, "cache": _cache}


def _run(check: Callable[[], dict]) -> dict:
    started = time.monotonic()
    try:
        outcome = {"ok": True, **check()}
    except Exception as exc:  # a probe reports every failure, it never raises
        outcome = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    outcome["ms"] = round((time.monotonic() - started) * 1000, 1)
    return outcome


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {name: _run(check) for name, check in CHECKS.items()}
    ready = all(outcome["ok"] for outcome in checks.values())
    checks["model"] = (
        _run(_served_model) if checks["database"]["ok"] else {"ok": False, "error": "no database"}
    )
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503
    )

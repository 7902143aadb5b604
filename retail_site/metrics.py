"""Prometheus metrics at ``/metrics``.

Request counts and latencies by view and status come from django-prometheus's middleware (its database
and cache metrics would need its own database and cache backends, which are not used). This module
adds what the product itself knows, read from the database at each scrape so that every web process
reports the same numbers: background jobs by kind and status, the duration of recent finished jobs,
the served model version and the progress of running jobs (training and scoring included).

The endpoint answers requests from this machine (loopback) and, anywhere, requests that carry
``Authorization: Bearer <METRICS_TOKEN>`` when that setting is given; everything else gets a 404.
"""

import datetime as dt
import hmac
import ipaddress

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django_prometheus.exports import ExportToDjangoView
from prometheus_client.core import REGISTRY, GaugeMetricFamily

# Finished jobs of this window count towards the duration gauges.
DURATION_WINDOW = dt.timedelta(hours=24)
RUN_TIME = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())


class ProductCollector:
    """Job counts and durations, the served version and running jobs' progress, from the database."""

    def describe(self):
        # Without this, registering the collector would run ``collect`` (database queries) at import.
        return []

    def collect(self):
        from core.models import Job
        from recommender.models import ModelVersion

        jobs = GaugeMetricFamily(
            "retail_jobs", "Background jobs by kind and status.", labels=["kind", "status"]
        )
        for row in Job.objects.order_by().values("kind", "status").annotate(n=Count("pk")):
            jobs.add_metric([row["kind"], row["status"]], row["n"])
        yield jobs

        durations = (
            Job.objects.filter(finished_at__gte=timezone.now() - DURATION_WINDOW, started_at__isnull=False)
            .order_by()
            .values("kind")
            .annotate(
                mean=Avg(F("finished_at") - F("started_at")), longest=Max(F("finished_at") - F("started_at"))
            )
        )
        mean = GaugeMetricFamily(
            "retail_job_duration_seconds_mean",
            "Mean duration of jobs finished in the last 24 h.",
            labels=["kind"],
        )
        longest = GaugeMetricFamily(
            "retail_job_duration_seconds_max", "Longest job finished in the last 24 h.", labels=["kind"]
        )
        for row in durations:
            mean.add_metric([row["kind"]], row["mean"].total_seconds())
            longest.add_metric([row["kind"]], row["longest"].total_seconds())
        yield mean
        yield longest

        running = GaugeMetricFamily(
            "retail_job_progress", "Progress (0..1) of each running job.", labels=["job_id", "kind"]
        )
        for job_id, kind, progress in Job.objects.unfinished().values_list("pk", "kind", "progress"):
            running.add_metric([str(job_id), kind], progress)
        yield running

        served = ModelVersion.objects.active().values_list("pk", flat=True).first()
        yield GaugeMetricFamily(
            "retail_served_model_version", "Id of the served model version (0: none yet).", value=served or 0
        )


_collector: ProductCollector | None = None


def collector_register() -> None:
    """Register the collector once per process (the URLconf imports this module once)."""
    global _collector
    if _collector is None:
        _collector = ProductCollector()
        REGISTRY.register(_collector)


# Headers a reverse proxy adds to the requests it passes on.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    if any(name in request.META for name in PROXY_HEADERS):
        # A reverse proxy on this machine makes every visitor's request come from 127.0.0.1; one it
        # passed on is not this machine's own (the production settings expect such a proxy).
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404()
    return ExportToDjangoView(request)
